import { createHash } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import type { TendEvent } from '../events/index.ts';
import type { Channel } from './port.ts';

/** What a message renders from: an immutable journey version's step (and variant), or a broadcast. */
export type MessageSource =
  | { kind: 'journey'; journeyId: number; version: number; stepId: string; variant: string | null }
  | { kind: 'broadcast'; broadcastId: number; variant: string | null };

export type NewMessage = {
  workspaceId: string;
  contactId: number;
  /** Unique per message and the same on every attempt: see messageKey. */
  idempotencyKey: string;
  journeyId?: number | null;
  runId?: number | null;
  broadcastId?: number | null;
  stepId?: string | null;
  variant?: string | null;
  channel: Channel;
  topic: string;
  transactional: boolean;
  address: string;
  source: MessageSource;
  /** The render context captured when the step ran (trigger event, cart, coupon …). */
  context: Record<string, unknown>;
  at: Date;
  /** Send no earlier than this (the contact's best hour). */
  notBefore?: Date;
};

export const MESSAGES_CHANNEL = 'tend_messages';

/**
 * A message's idempotency key: a hash of what makes it this message (the run and the step, or the
 * broadcast and the contact), so re-running the same step can only ever produce the same key.
 * Hex, so it is safe in a Message-ID, an HTTP header and a push topic.
 */
export function messageKey(parts: readonly (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/**
 * Records messages before anything is attempted, in the caller's transaction (the journey steps
 * that decided to send), with one statement for the whole batch. A key seen before is a no-op, so
 * a step re-run after a crash does not queue a second message. The delivery worker wakes on the
 * notification when the transaction commits. Returns how many were new.
 */
export async function recordMessages(tx: Queryable, list: readonly NewMessage[]): Promise<number> {
  if (list.length === 0) return 0;
  const col = <T>(f: (m: NewMessage) => T) => list.map(f);
  const { rows } = await tx.query<{ n: number }>(
    `with inserted as (
       insert into messages (workspace_id, idempotency_key, contact_id, journey_id, run_id, broadcast_id, step_id, variant, channel, topic,
                             transactional, address, source, context, next_attempt_at, created_at)
       select * from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[],
                            $11::boolean[], $12::text[], $13::jsonb[], $14::jsonb[], $15::timestamptz[], $16::timestamptz[])
       on conflict (idempotency_key) do nothing
       returning 1)
     select count(*)::int as n from inserted`,
    [
      col((m) => m.workspaceId), col((m) => m.idempotencyKey), col((m) => m.contactId), col((m) => m.journeyId ?? null), col((m) => m.runId ?? null),
      col((m) => m.broadcastId ?? null), col((m) => m.stepId ?? null), col((m) => m.variant ?? null), col((m) => m.channel), col((m) => m.topic),
      col((m) => m.transactional), col((m) => m.address), col((m) => JSON.stringify(m.source)), col((m) => JSON.stringify(m.context)),
      col((m) => m.notBefore ?? m.at), col((m) => m.at),
    ],
  );
  const n = rows[0]!.n;
  if (n > 0) await tx.query(`select pg_notify($1, '')`, [MESSAGES_CHANNEL]);
  return n;
}

/** The columns of a message that the events about it carry. */
export type MessageFacts = {
  id: number; idempotency_key: string; contact_id: number; channel: string; topic: string;
  journey_id: number | null; broadcast_id: number | null; step_id: string | null; variant: string | null;
};

/**
 * An event about a message (sent, opened, clicked, bounced …) on its contact. Its id is made from
 * the message's key and `key`, so the same fact reported twice is stored once.
 */
export function messageEvent(m: MessageFacts, name: string, key: string, at: Date, extra: Record<string, unknown> = {}): TendEvent {
  return {
    contactId: m.contact_id, messageId: `tend:${m.idempotency_key}:${key}`, name, occurredAt: at,
    properties: { message_id: m.id, channel: m.channel, topic: m.topic, journey_id: m.journey_id, broadcast_id: m.broadcast_id, step_id: m.step_id, variant: m.variant, ...extra },
  };
}
