import type { Db } from '../db/index.ts';
import { startWorkerLoop } from '../core/worker-loop.ts';
import type { Clock } from '../core/clock.ts';
import { recordEvents, type TendEvent } from '../events/index.ts';
import { MESSAGES_CHANNEL, messageEvent } from './messages.ts';
import type { Channel, ChannelProvider, OutgoingMessage, PayloadOf, SendResult } from './port.ts';
import { suppress } from '../policy/index.ts';

/** A recorded message as the delivery worker claims it. */
export type MessageRow = {
  workspace_id: string; id: number; idempotency_key: string; contact_id: number; journey_id: number | null; run_id: number | null;
  broadcast_id: number | null; step_id: string | null; variant: string | null; channel: Channel; topic: string; transactional: boolean;
  address: string; source: unknown; context: Record<string, unknown>; attempts: number;
};

/** Turns a recorded message into what its provider sends; an error here fails the message (no retry). */
export interface Renderer {
  /** Reads what a batch of messages needs (their contacts) in one go; passed back to `render`. */
  prepare(messages: readonly MessageRow[]): Promise<unknown>;
  render(message: MessageRow, prepared: unknown): Promise<{ ok: true; payload: PayloadOf[Channel] } | { ok: false; error: string }>;
}

export type Providers = Partial<{ [C in Channel]: ChannelProvider<C> }>;

const MAX_ATTEMPTS = 8;
const RECORD_EVERY = 32;

/**
 * The delivery worker: the outside-world half of sending. Messages were recorded (status queued)
 * by the step that decided to send. This worker
 *   1. claims due messages with FOR UPDATE SKIP LOCKED and marks them `sending` with a lease and
 *      one more attempt — committed before anything leaves Tend;
 *   2. renders each and hands it to its channel's provider with its idempotency key;
 *   3. records every outcome in one statement: sent, retried later with backoff, or failed (and
 *      the address suppressed when the provider says it is gone).
 * A process that dies between 2 and 3 leaves messages `sending`; when their lease runs out they
 * are attempted again with the same key (the same Message-ID), which is the one duplicate a
 * crash can cause, and the receiving side can recognise it.
 */
export function createDeliveryWorker({ db, clock, providers, renderer, batchSize = 200, concurrency = 16, leaseMs = 60_000, onEvents, log }: {
  db: Db;
  clock: Clock;
  providers: Providers;
  renderer: Renderer;
  batchSize?: number;
  concurrency?: number;
  /**
   * How long a claimed message stays ours (TEND_DELIVERY_LEASE_SECONDS); after that a crashed
   * sender's message is attempted again, with the same key. Longer than the slowest provider's timeout.
   */
  leaseMs?: number;
  /** Contacts whose engagement events were recorded (segments refresh them). */
  onEvents?: (workspaceId: string, contactIds: number[]) => void;
  log?: (line: string) => void;
}) {
  async function claim(now: Date): Promise<MessageRow[]> {
    const { rows } = await db.query<MessageRow>(
      `update messages m set status = 'sending', attempts = m.attempts + 1, locked_until = $2
        where (m.workspace_id, m.id) in (
          select workspace_id, id from messages
           where status in ('queued', 'sending') and next_attempt_at <= $1 and (status = 'queued' or locked_until < $1)
           order by next_attempt_at limit $3 for update skip locked)
       returning m.workspace_id, m.id, m.idempotency_key, m.contact_id, m.journey_id, m.run_id, m.broadcast_id, m.step_id, m.variant, m.channel,
                 m.topic, m.transactional, m.address, m.source, m.context, m.attempts`,
      [now, new Date(now.getTime() + leaseMs), batchSize],
    );
    // Sending is not ordered anyway; keep the claim and the next claim fair by id.
    return rows.sort((a, b) => a.id - b.id);
  }

  async function attempt(m: MessageRow, prepared: unknown): Promise<{ m: MessageRow; result: SendResult; provider: string | null }> {
    const provider = providers[m.channel] as ChannelProvider | undefined;
    if (!provider) return { m, result: { status: 'failed', error: `no ${m.channel} provider is configured` }, provider: null };
    const rendered = await renderer.render(m, prepared).catch((err: Error) => ({ ok: false as const, error: `rendering failed: ${err.message}` }));
    if (!rendered.ok) return { m, result: { status: 'failed', error: rendered.error }, provider: provider.name };
    const message: OutgoingMessage = {
      id: String(m.id), idempotencyKey: m.idempotency_key, workspaceId: m.workspace_id, channel: m.channel, transactional: m.transactional,
      payload: rendered.payload, attempt: m.attempts,
    };
    const result = await provider.send(message).catch((err: Error): SendResult => ({ status: 'retry', error: err.message }));
    return { m, result, provider: provider.name };
  }

  async function record(outcomes: { m: MessageRow; result: SendResult; provider: string | null }[], now: Date): Promise<void> {
    const status: string[] = [];
    const next: (Date | null)[] = [];
    for (const { m, result } of outcomes) {
      if (result.status === 'accepted') status.push('sent');
      else if (result.status === 'retry' && m.attempts < MAX_ATTEMPTS) status.push('queued');
      else status.push('failed');
      const backoff = result.status === 'retry' ? (result.retryAfterMs ?? Math.min(30_000 * 2 ** (m.attempts - 1), 6 * 3_600_000)) : 0;
      next.push(new Date(now.getTime() + backoff));
    }
    const events: Map<string, TendEvent[]> = new Map();
    await db.transaction(async (tx) => {
      await tx.query(
        `update messages m set status = v.s, next_attempt_at = v.n, locked_until = null, provider = v.p, provider_message_id = v.pid, error = v.e,
                cost_cents = v.c, sent_at = case when v.s = 'sent' then $7::timestamptz end
           from unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $8::text[], $9::int[]) as v(w, id, s, n, p, pid, e, c)
          where m.workspace_id = v.w and m.id = v.id and m.status = 'sending'`,
        [
          outcomes.map((o) => o.m.workspace_id), outcomes.map((o) => o.m.id), status, next, outcomes.map((o) => o.provider),
          outcomes.map((o) => (o.result.status === 'accepted' ? (o.result.providerMessageId ?? null) : null)), now,
          outcomes.map((o) => (o.result.status === 'accepted' ? null : o.result.error)),
          outcomes.map((o) => (o.result.status === 'accepted' ? (o.result.costCents ?? null) : null)),
        ],
      );
      await suppress(tx, outcomes.flatMap((o) =>
        o.result.status === 'failed' && o.result.suppress && o.result.suppress !== 'subscription_gone'
          ? [{ workspaceId: o.m.workspace_id, channel: o.m.channel, address: o.m.address, reason: o.result.suppress }]
          : []), now);
      for (const o of outcomes.filter((x) => x.result.status === 'failed' && x.result.suppress === 'subscription_gone')) {
        await tx.query(`delete from push_subscriptions where workspace_id = $1 and endpoint = $2`, [o.m.workspace_id, o.m.address]);
      }
      outcomes.forEach((o, i) => {
        if (o.m.channel === 'webhook' || (status[i] !== 'sent' && status[i] !== 'failed')) return;
        const list = events.get(o.m.workspace_id) ?? [];
        const sent = status[i] === 'sent';
        list.push(messageEvent(o.m, sent ? 'Message Sent' : 'Message Failed', sent ? 'sent' : 'failed', now, o.result.status === 'accepted' ? {} : { error: o.result.error }));
        events.set(o.m.workspace_id, list);
      });
      for (const [ws, list] of events) await recordEvents(tx, ws, list, now);
    });
    for (const [ws, list] of events) onEvents?.(ws, [...new Set(list.map((e) => e.contactId))]);
  }

  /** Claims one batch and delivers it; returns how many messages were attempted. */
  async function tick(): Promise<number> {
    const now = clock.now();
    const batch = await claim(now);
    if (batch.length === 0) return 0;
    const prepared = await renderer.prepare(batch);
    // Outcomes are recorded as they come, a few dozen at a time, not once for the whole batch: a
    // process that dies leaves at most those few dozen accepted-but-unrecorded messages to be
    // sent again (with their same keys), where a whole batch would be hundreds.
    let pending: Awaited<ReturnType<typeof attempt>>[] = [];
    const flush = async () => {
      const chunk = pending;
      pending = [];
      if (chunk.length === 0) return;
      await record(chunk, clock.now());
      for (const o of chunk) if (o.result.status !== 'accepted') log?.(`message ${o.m.id} (${o.m.channel} to ${o.m.address}): ${o.result.status}: ${o.result.error}`);
    };
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
      while (next < batch.length) {
        // Not `pending.push(await …)`: that would push into the array a flush has already taken.
        const outcome = await attempt(batch[next++]!, prepared);
        pending.push(outcome);
        if (pending.length >= RECORD_EVERY) await flush();
      }
    }));
    await flush();
    return batch.length;
  }

  let stopFn: (() => Promise<void>) | null = null;
  return {
    tick,
    async drain(): Promise<number> {
      let total = 0;
      for (let n = await tick(); n > 0; n = await tick()) total += n;
      return total;
    },
    /** Runs in the background, woken by `pg_notify` when work is added and every `pollMs` for work that fell due. */
    async start(pollMs = 1000): Promise<void> {
      stopFn = await startWorkerLoop({ db, channel: MESSAGES_CHANNEL, pollMs, tick, onError: (err) => log?.(`delivery: ${err.message}`) });
    },
    async stop(): Promise<void> {
      await stopFn?.();
      stopFn = null;
      for (const p of Object.values(providers)) await p?.close();
    },
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
