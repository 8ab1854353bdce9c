import type { Queryable } from '../db/index.ts';

export type Suppression = { workspaceId: string; channel: string; address: string; reason: string };

/**
 * Adds addresses to the suppression list (hard bounces, complaints, unsubscribes) in one
 * statement. An address already suppressed keeps its first reason.
 */
export async function suppress(tx: Queryable, list: readonly Suppression[], at: Date): Promise<void> {
  if (list.length === 0) return;
  await tx.query(
    `insert into suppressions (workspace_id, channel, address, reason, created_at)
     select w, ch, a, r, $5 from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as v(w, ch, a, r) on conflict do nothing`,
    [list.map((s) => s.workspaceId), list.map((s) => s.channel), list.map((s) => s.address), list.map((s) => s.reason), at],
  );
}
