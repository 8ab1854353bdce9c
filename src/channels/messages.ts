import { createHash } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
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
 * Records a message before anything is attempted, in the caller's transaction (the journey step
 * that decided to send). A key seen before is a no-op, so a step re-run after a crash does not
 * queue a second message. The delivery worker wakes on the notification when the transaction
 * commits. Returns the message id, or null when the key existed.
 */
export async function recordMessage(tx: Queryable, m: NewMessage): Promise<number | null> {
  const { rows } = await tx.query<{ id: number }>(
    `insert into messages (workspace_id, idempotency_key, contact_id, journey_id, run_id, broadcast_id, step_id, variant, channel, topic,
                           transactional, address, source, context, next_attempt_at, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     on conflict (idempotency_key) do nothing
     returning id`,
    [m.workspaceId, m.idempotencyKey, m.contactId, m.journeyId ?? null, m.runId ?? null, m.broadcastId ?? null, m.stepId ?? null, m.variant ?? null,
      m.channel, m.topic, m.transactional, m.address, JSON.stringify(m.source), JSON.stringify(m.context), m.notBefore ?? m.at, m.at],
  );
  if (rows.length === 0) return null;
  await tx.query(`select pg_notify($1, $2)`, [MESSAGES_CHANNEL, m.workspaceId]);
  return rows[0]!.id;
}
