import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db, Queryable } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { assertNever } from '../core/result.ts';
import { recordEvents, type TendEvent } from '../events/index.ts';
import { saveConsents } from '../contacts/consent.ts';
import { loadMessagingSettings, suppress } from '../policy/index.ts';
import type { DeliveryReport, PushSubscriptionKeys } from '../channels/port.ts';
import { isStartKeyword, isStopKeyword } from '../channels/sms/webhooks.ts';
import { messageEvent } from '../channels/messages.ts';

/**
 * Where a batch of reports came from, as the webhook route established it.
 * - `workspaceId`: the workspace of the route (its hooks token, or the one a signed URL names);
 *   reports that name no message of Tend's (an inbound SMS, a provider's own message id) apply here.
 * - `anyWorkspace`: the provider's signature vouches for the request, and Tend's providers are the
 *   installation's, so a report may name a message of any workspace (idempotency keys are unique
 *   across workspaces). With a hooks token only, a report about another workspace's message is
 *   ignored: one shop's token cannot bounce another shop's addresses.
 * - `source`: who said so ('ses', 'twilio' …), kept with consent changes.
 */
export type ReportScope = { workspaceId: string; anyWorkspace: boolean; source: string };

/** What became of a request's reports. */
export type ReportOutcome = {
  received: number;
  /** Reports that named a message (or, for inbound SMS, a keyword) Tend acted on. */
  applied: number;
  /** Reports about no message of this workspace, and inbound texts that are not keywords. */
  ignored: number;
  /** Events stored for the first time … */
  events: number;
  /** … and events that were already stored (a redelivered webhook). */
  duplicates: number;
};

type MessageRef = {
  workspace_id: string; id: number; idempotency_key: string; contact_id: number; channel: string; topic: string; address: string;
  journey_id: number | null; broadcast_id: number | null; step_id: string | null; variant: string | null;
};
const COLUMNS = `workspace_id, id, idempotency_key, contact_id, channel, topic, address, journey_id, broadcast_id, step_id, variant`;

type Effect = { workspaceId: string; contactId: number; event: TendEvent };

/**
 * Applies what providers report after a message left Tend (src/channels/port.ts DeliveryReport):
 * each report becomes an event on the message's contact ("Message Delivered", "Message Bounced",
 * "Message Complained", "Unsubscribed", "Message Failed") with a deterministic message id, so a
 * webhook delivered twice is stored once; hard bounces and complaints suppress the address the
 * message went to; unsubscribes withdraw the channel's consent and suppress the address. An inbound
 * SMS that says STOP withdraws SMS consent from every contact with that number and suppresses it;
 * START grants it again and lifts the 'unsubscribed' suppression (never a bounce or a complaint).
 * All of one request's reports are applied in one transaction.
 */
export function createReportService({ db, clock, onEvents }: {
  db: Db;
  clock: Clock;
  /** After the transaction: contacts whose events or consent changed (segments and journeys look again). */
  onEvents?: (workspaceId: string, contactIds: number[]) => void | Promise<void>;
}) {
  /** The message a report is about: by Tend's key, else by the provider's id in the route's workspace. */
  async function findMessage(tx: Queryable, scope: ReportScope, report: DeliveryReport): Promise<MessageRef | null> {
    let row: MessageRef | undefined;
    if (report.idempotencyKey) {
      row = (await tx.query<MessageRef>(`select ${COLUMNS} from messages where idempotency_key = $1`, [report.idempotencyKey])).rows[0];
    }
    if (!row && report.providerMessageId) {
      row = (await tx.query<MessageRef>(
        `select ${COLUMNS} from messages where workspace_id = $1 and provider_message_id = $2 order by id limit 1`,
        [scope.workspaceId, report.providerMessageId],
      )).rows[0];
    }
    if (!row || row.channel !== report.channel) return null;
    if (!scope.anyWorkspace && row.workspace_id !== scope.workspaceId) return null;
    return row;
  }

  function suppressAll(tx: Queryable, workspaceId: string, channel: string, addresses: readonly string[], reason: string, at: Date): Promise<void> {
    return suppress(tx, [...new Set(addresses)].map((address) => ({ workspaceId, channel, address, reason })), at);
  }

  /** The effects of one report about a sent message; returns the events to record. */
  async function applyToMessage(tx: Queryable, scope: ReportScope, m: MessageRef, r: DeliveryReport, now: Date): Promise<TendEvent[]> {
    const at = r.occurredAt && !Number.isNaN(Date.parse(r.occurredAt)) ? new Date(r.occurredAt) : now;
    const event = (name: string, key: string, extra: Record<string, unknown> = {}): TendEvent =>
      messageEvent(m, name, key, at, { reported_by: scope.source, ...(r.reason ? { reason: r.reason.slice(0, 1000) } : {}), ...extra });
    switch (r.type) {
      case 'delivered':
        return [event('Message Delivered', 'delivered')];
      case 'bounced':
        // The message's address, not the report's: it is what the policy gate looks up.
        if (r.hard) await suppressAll(tx, m.workspace_id, m.channel, [m.address], 'hard_bounce', now);
        return [event('Message Bounced', r.hard ? 'bounced:hard' : 'bounced:soft', { hard: r.hard === true })];
      case 'complained':
        await suppressAll(tx, m.workspace_id, m.channel, [m.address], 'complaint', now);
        return [event('Message Complained', 'complained')];
      case 'unsubscribed':
        if (m.channel === 'email' || m.channel === 'sms' || m.channel === 'push' || m.channel === 'print') {
          await saveConsents(tx, m.workspace_id, [{ contactId: m.contact_id, rows: [{ channel: m.channel, topic: '*', granted: false }] }], scope.source, now);
        }
        await suppressAll(tx, m.workspace_id, m.channel, [m.address], 'unsubscribed', now);
        // The same id as an unsubscribe through the message's own link: one fact, stored once.
        return [event('Unsubscribed', 'unsubscribed:*', { unsubscribed_topic: '*' })];
      case 'failed':
        // The same id the delivery worker gives a failure it sees itself.
        return [event('Message Failed', 'failed', { error: r.reason ?? 'failed' })];
      case 'inbound':
        return [];
      default:
        return assertNever(r.type);
    }
  }

  /**
   * STOP and START by text message. The contacts are found by the sender's number as stored
   * (with or without the leading +). There is no index on phone numbers: inbound texts are rare
   * (a handful per thousand sent), and a scan of one workspace's contacts is cheap next to a
   * second index that every profile write would have to maintain.
   */
  async function applyInboundSms(tx: Queryable, scope: ReportScope, r: DeliveryReport, now: Date): Promise<TendEvent[] | null> {
    const text = r.text ?? '';
    const stop = isStopKeyword(text);
    if (!r.address || (!stop && !isStartKeyword(text))) return null;
    const from = r.address.trim();
    const variants = [...new Set([from, from.replace(/^\+/, ''), `+${from.replace(/^\+/, '')}`])];
    const { rows } = await tx.query<{ id: number; phone: string }>(
      `select id, phone from contacts where workspace_id = $1 and merged_into is null and phone = any($2::text[]) order by id`,
      [scope.workspaceId, variants],
    );
    // Every form the number is known by, so a later import of the number in another form is covered too.
    const addresses = [...new Set([from, ...rows.map((c) => c.phone)])];
    const entries = rows.map((c) => ({ contactId: c.id, rows: [{ channel: 'sms' as const, topic: '*', granted: !stop }] }));
    await saveConsents(tx, scope.workspaceId, entries, stop ? 'sms-stop' : 'sms-start', now);
    if (stop) await suppressAll(tx, scope.workspaceId, 'sms', addresses, 'unsubscribed', now);
    else {
      await tx.query(
        `delete from suppressions where workspace_id = $1 and channel = 'sms' and address = any($2::text[]) and reason = 'unsubscribed'`,
        [scope.workspaceId, addresses],
      );
    }
    const id = r.providerMessageId ?? `${from}:${now.toISOString()}`;
    return rows.map((c) => ({
      contactId: c.id, messageId: `tend:sms-in:${id}:${c.id}:${stop ? 'unsubscribed' : 'resubscribed'}`,
      name: stop ? 'Unsubscribed' : 'Resubscribed', occurredAt: now,
      properties: { channel: 'sms', unsubscribed_topic: '*', keyword: text.trim().slice(0, 50), reported_by: scope.source },
    }));
  }

  return {
    /** Applies a request's reports in one transaction; segments hear about the contacts afterwards. */
    async apply(scope: ReportScope, reports: readonly DeliveryReport[]): Promise<ReportOutcome> {
      const now = clock.now();
      const outcome: ReportOutcome = { received: reports.length, applied: 0, ignored: 0, events: 0, duplicates: 0 };
      const effects: Effect[] = [];
      await db.transaction(async (tx) => {
        for (const r of reports) {
          if (r.type === 'inbound') {
            const events = r.channel === 'sms' ? await applyInboundSms(tx, scope, r, now) : null;
            if (events === null) outcome.ignored++;
            else {
              outcome.applied++;
              effects.push(...events.map((event) => ({ workspaceId: scope.workspaceId, contactId: event.contactId, event })));
            }
            continue;
          }
          const m = await findMessage(tx, scope, r);
          if (!m) {
            outcome.ignored++;
            continue;
          }
          outcome.applied++;
          const events = await applyToMessage(tx, scope, m, r, now);
          effects.push(...events.map((event) => ({ workspaceId: m.workspace_id, contactId: m.contact_id, event })));
        }
        const byWorkspace = new Map<string, TendEvent[]>();
        for (const e of effects) byWorkspace.set(e.workspaceId, [...(byWorkspace.get(e.workspaceId) ?? []), e.event]);
        for (const [ws, events] of byWorkspace) {
          // Two reports of one request may be the same fact (SES lists a recipient twice): stored once.
          const unique = [...new Map(events.map((e) => [e.messageId, e])).values()];
          const ids = await recordEvents(tx, ws, unique, now);
          outcome.events += ids.length;
          outcome.duplicates += unique.length - ids.length;
        }
      });
      // Contacts whose consent changed count too, even when their event was a duplicate.
      const touched = new Map<string, Set<number>>();
      for (const e of effects) touched.set(e.workspaceId, (touched.get(e.workspaceId) ?? new Set()).add(e.contactId));
      for (const [ws, ids] of touched) await onEvents?.(ws, [...ids]);
      return outcome;
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;

// ---------------------------------------------------------------- hooks tokens

const TOKEN = /^([A-Za-z0-9_-]{1,100})\.([A-Za-z0-9_-]{43})$/;
const mac = (secret: string, workspaceId: string) => createHmac('sha256', secret).update(`tend-hooks\u0000${workspaceId}`).digest('base64url');

/**
 * The workspace's hooks token, `<workspace id>.<HMAC>`: what providers that do not sign their
 * webhooks (and Tend's own print and bounce-mailbox routes) put in the URL. It is derived from the
 * workspace's link secret rather than stored, so there is nothing to leak from a backup and
 * nothing to keep in step between processes; it changes only if that secret is replaced.
 */
export async function hooksToken(db: Queryable, workspaceId: string): Promise<string> {
  const { linkSecret } = await loadMessagingSettings(db, workspaceId);
  return `${workspaceId}.${mac(linkSecret, workspaceId)}`;
}

/** The workspace a hooks token belongs to, or null when it is not one of Tend's. */
export async function verifyHooksToken(db: Queryable, token: string): Promise<string | null> {
  const m = TOKEN.exec(token);
  if (!m) return null;
  const workspaceId = m[1]!;
  const exists = await db.query(`select 1 from workspaces where id = $1`, [workspaceId]);
  if (exists.rows.length === 0) return null;
  const { linkSecret } = await loadMessagingSettings(db, workspaceId);
  const expected = Buffer.from(mac(linkSecret, workspaceId));
  const given = Buffer.from(m[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given) ? workspaceId : null;
}

// ---------------------------------------------------------------- push subscriptions

export type PushSubscriptionInput = { endpoint: string; keys: PushSubscriptionKeys; userAgent?: string };

/**
 * Stores a browser's push subscription for a contact. The browser asked its user for permission
 * to show notifications, so this is the contact's opt-in to push (consent source 'push-subscribe'),
 * and an earlier suppression of the same endpoint is lifted. An endpoint belongs to one browser:
 * subscribing it again moves it to whoever is signed in there now.
 */
export async function savePushSubscription(db: Db, workspaceId: string, contactId: number, input: PushSubscriptionInput, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `insert into push_subscriptions (workspace_id, endpoint, contact_id, keys, user_agent, created_at) values ($1, $2, $3, $4, $5, $6)
       on conflict (workspace_id, endpoint) do update set contact_id = excluded.contact_id, keys = excluded.keys, user_agent = excluded.user_agent`,
      [workspaceId, input.endpoint, contactId, JSON.stringify(input.keys), input.userAgent?.slice(0, 500) ?? null, now],
    );
    await saveConsents(tx, workspaceId, [{ contactId, rows: [{ channel: 'push', topic: '*', granted: true }] }], 'push-subscribe', now);
    await tx.query(`delete from suppressions where workspace_id = $1 and channel = 'push' and address = $2`, [workspaceId, input.endpoint]);
  });
}

/** Forgets a browser's subscription (it unsubscribed); returns whether there was one. Consent stays: other browsers may still be subscribed. */
export async function removePushSubscription(db: Queryable, workspaceId: string, endpoint: string): Promise<boolean> {
  const { rows } = await db.query(`delete from push_subscriptions where workspace_id = $1 and endpoint = $2 returning 1`, [workspaceId, endpoint]);
  return rows.length > 0;
}
