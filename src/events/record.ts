import type { Queryable } from '../db/index.ts';

export type TendEvent = { contactId: number; messageId: string; name: string; properties: Record<string, unknown>; occurredAt: Date };

/**
 * Events that Tend itself records about a contact (message sent, opened, clicked, journey entered,
 * unsubscribed). They go into the same event store as tracked events, so segments and journeys use
 * them alike; each has a deterministic message id, so recording the same fact twice stores it once.
 * Returns the ids of the events stored for the first time.
 */
export async function recordEvents(tx: Queryable, workspaceId: string, events: readonly TendEvent[], receivedAt: Date): Promise<number[]> {
  if (events.length === 0) return [];
  const { rows } = await tx.query<{ contact_id: number }>(
    `insert into events (workspace_id, contact_id, message_id, type, name, properties, occurred_at, received_at)
     select $1, c, m, 'track', n, p, o, $6
       from unnest($2::bigint[], $3::text[], $4::text[], $5::jsonb[], $7::timestamptz[]) as v(c, m, n, p, o)
     on conflict (workspace_id, message_id) do nothing
     returning contact_id`,
    [workspaceId, events.map((e) => e.contactId), events.map((e) => e.messageId), events.map((e) => e.name), events.map((e) => JSON.stringify(e.properties)), receivedAt, events.map((e) => e.occurredAt)],
  );
  return rows.map((r) => r.contact_id);
}
