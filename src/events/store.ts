import type { Queryable } from '../db/index.ts';
import type { AcceptedMessage } from './validate.ts';

/**
 * Writes a batch of events with one statement. `unnest` of parallel arrays keeps the statement
 * text and its parameter count constant whatever the batch size (one plan, no 65,535-parameter
 * ceiling), where a multi-row VALUES list grows with the batch. `on conflict do nothing`
 * makes a redelivered messageId a no-op; `returning` tells which events are new.
 */
export async function insertEvents(
  tx: Queryable,
  workspaceId: string,
  messages: readonly AcceptedMessage[],
  contactIds: readonly number[],
  receivedAt: Date,
): Promise<Map<string, number>> {
  const { rows } = await tx.query<{ id: number; message_id: string }>(
    `insert into events (workspace_id, contact_id, message_id, type, name, properties, context, occurred_at, received_at)
     select $1, c, m, t, n, p, x, o, $9
       from unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::timestamptz[]) as v(c, m, t, n, p, x, o)
     on conflict (workspace_id, message_id) do nothing
     returning id, message_id`,
    [
      workspaceId,
      contactIds,
      messages.map((m) => m.messageId),
      messages.map((m) => m.type),
      messages.map((m) => m.name),
      messages.map((m) => JSON.stringify(m.properties)),
      messages.map((m) => (m.context ? JSON.stringify(m.context) : null)),
      messages.map((m) => m.occurredAt),
      receivedAt,
    ],
  );
  return new Map(rows.map((r) => [r.message_id, r.id]));
}
