import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import { MessagingPolicy } from './schema.ts';

export type MessagingSettings = { policy: MessagingPolicy; linkSecret: string };

/**
 * A workspace's messaging settings: its policy and the secret that signs tracking links. The row is
 * created on first use; the secret is random and never leaves the server (links carry only an
 * HMAC made with it), so rotating it only breaks links already sent.
 */
export async function loadMessagingSettings(db: Queryable, workspaceId: string): Promise<MessagingSettings> {
  // Read first: every open pixel and click reads this, and the row exists after the first message.
  const found = await db.query<{ policy: unknown; link_secret: string }>(`select policy, link_secret from messaging_settings where workspace_id = $1`, [workspaceId]);
  if (found.rows[0]) return { policy: MessagingPolicy.parse(found.rows[0].policy ?? {}), linkSecret: found.rows[0].link_secret };
  const { rows } = await db.query<{ policy: unknown; link_secret: string }>(
    `insert into messaging_settings (workspace_id, link_secret) values ($1, $2)
     on conflict (workspace_id) do update set workspace_id = excluded.workspace_id
     returning policy, link_secret`,
    [workspaceId, randomBytes(32).toString('base64url')],
  );
  const row = rows[0]!;
  return { policy: MessagingPolicy.parse(row.policy ?? {}), linkSecret: row.link_secret };
}

/** Replaces the policy (validated by the caller against MessagingPolicy). */
export async function saveMessagingPolicy(db: Queryable, workspaceId: string, policy: MessagingPolicy): Promise<void> {
  await loadMessagingSettings(db, workspaceId);
  await db.query(`update messaging_settings set policy = $2 where workspace_id = $1`, [workspaceId, JSON.stringify(policy)]);
}
