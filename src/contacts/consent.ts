import { z } from 'zod';
import type { Queryable } from '../db/index.ts';

export const channels = ['email', 'sms', 'push', 'print'] as const;
export type Channel = (typeof channels)[number];

const ChannelConsent = z.union([
  z.boolean(),
  z.object({ granted: z.boolean().optional(), topics: z.record(z.string().min(1).max(100), z.boolean()).optional() }).strict(),
]);

/**
 * Consent as it arrives in `identify` traits, CSV columns or the admin API:
 * `{ email: true, sms: false, push: { granted: true, topics: { offers: false } } }`.
 */
export const ConsentInput = z.object({ email: ChannelConsent, sms: ChannelConsent, push: ChannelConsent, print: ChannelConsent }).partial().strict();
export type ConsentInput = z.infer<typeof ConsentInput>;

export type ConsentRow = { channel: Channel; topic: string; granted: boolean };

/** Flattens consent input into rows; topic '*' is the channel as a whole. */
export function consentRows(input: ConsentInput): ConsentRow[] {
  const rows: ConsentRow[] = [];
  for (const channel of channels) {
    const value = input[channel];
    if (value === undefined) continue;
    if (typeof value === 'boolean') rows.push({ channel, topic: '*', granted: value });
    else {
      if (value.granted !== undefined) rows.push({ channel, topic: '*', granted: value.granted });
      for (const [topic, granted] of Object.entries(value.topics ?? {})) rows.push({ channel, topic, granted });
    }
  }
  return rows;
}

/** Writes consent rows for many contacts at once; a later statement about the same pair wins. */
export async function saveConsents(
  tx: Queryable,
  workspaceId: string,
  entries: { contactId: number; rows: ConsentRow[] }[],
  source: string,
  at: Date,
): Promise<void> {
  const latest = new Map<string, { contactId: number; row: ConsentRow }>();
  for (const e of entries) for (const row of e.rows) latest.set(`${e.contactId}\u0000${row.channel}\u0000${row.topic}`, { contactId: e.contactId, row });
  if (latest.size === 0) return;
  const values = [...latest.values()];
  await tx.query(
    `insert into contact_consents (workspace_id, contact_id, channel, topic, granted, source, updated_at)
     select $1, c, ch, t, g, $6, $7 from unnest($2::bigint[], $3::text[], $4::text[], $5::boolean[]) as v(c, ch, t, g)
     on conflict (workspace_id, contact_id, channel, topic)
     do update set granted = excluded.granted, source = excluded.source, updated_at = excluded.updated_at`,
    [workspaceId, values.map((v) => v.contactId), values.map((v) => v.row.channel), values.map((v) => v.row.topic), values.map((v) => v.row.granted), source, at],
  );
}
