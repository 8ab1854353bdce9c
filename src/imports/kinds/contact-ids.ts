import { resolveIdentities, type EmailCheck } from '../../contacts/index.ts';
import type { Queryable } from '../../db/index.ts';

/** Who a contacts-file row is about: a user id, an email, or both. */
export type ContactKey = { userId: string | null; email: { address: string; check: EmailCheck } | null };

/**
 * Finds or creates the contact of every row, without touching contacts that already exist (so a
 * re-import leaves last_seen_at alone):
 * - a known user id (or a previous one, through its alias) is that contact;
 * - a new user id whose row has an email takes over an email-only contact with that address, so a
 *   newsletter list imported by email and a customer list imported later become one profile;
 * - any other new user id gets a profile through resolveIdentities, the tracking API's rules;
 * - a row with only an email finds the oldest profile with that address, or creates one.
 * User ids and emails are advisory-locked (sorted, user ids first) so that concurrent imports and
 * identify calls about the same person cannot create two profiles.
 */
export async function contactIdsFor(tx: Queryable, workspaceId: string, keys: readonly ContactKey[], now: Date): Promise<number[]> {
  const userIds = [...new Set(keys.flatMap((k) => (k.userId ? [k.userId] : [])))].sort();
  const byUser = new Map<string, number>();
  if (userIds.length > 0) {
    // The same lock key as resolveIdentities, so an identify call for the same id waits for us.
    await tx.query(
      `select pg_advisory_xact_lock(hashtextextended($1 || ':' || id, 0)) from unnest($2::text[]) with ordinality as t(id, ord) order by ord`,
      [workspaceId, userIds],
    );
    const found = await tx.query<{ k: string; id: number }>(
      `select user_id as k, id from contacts where workspace_id = $1 and user_id = any($2::text[])
       union all
       select alias_id, contact_id from contact_aliases where workspace_id = $1 and alias_id = any($2::text[])`,
      [workspaceId, userIds],
    );
    for (const r of found.rows) if (!byUser.has(r.k)) byUser.set(r.k, r.id);
  }

  const emails = [...new Set(keys.flatMap((k) => (k.email && (!k.userId || !byUser.has(k.userId)) ? [k.email.address] : [])))].sort();
  const byEmail = new Map<string, number>(); // email-only profiles (no user id), oldest first
  if (emails.length > 0) {
    await tx.query(
      `select pg_advisory_xact_lock(hashtextextended($1 || ':email:' || e, 0)) from unnest($2::text[]) with ordinality as t(e, ord) order by ord`,
      [workspaceId, emails],
    );
    const found = await tx.query<{ email: string; id: number; user_id: string | null }>(
      `select distinct on (email) email, id, user_id from contacts
        where workspace_id = $1 and email = any($2::text[]) and merged_into is null
        order by email, (user_id is null) desc, id`,
      [workspaceId, emails],
    );
    const unclaimed = new Set<number>();
    for (const r of found.rows) {
      byEmail.set(r.email, r.id);
      if (r.user_id === null) unclaimed.add(r.id);
    }
    // Email-only contacts claimed by a new user id (each by the first row that names it).
    const claims = new Map<string, number>();
    for (const k of keys) {
      if (!k.userId || !k.email || byUser.has(k.userId) || claims.has(k.userId)) continue;
      const id = byEmail.get(k.email.address);
      if (id !== undefined && unclaimed.delete(id)) claims.set(k.userId, id);
    }
    if (claims.size > 0) {
      await tx.query(
        `update contacts c set user_id = v.u, updated_at = $4 from unnest($2::text[], $3::bigint[]) as v(u, id)
          where c.workspace_id = $1 and c.id = v.id and c.user_id is null`,
        [workspaceId, [...claims.keys()], [...claims.values()], now],
      );
      for (const [u, id] of claims) byUser.set(u, id);
    }
  }

  const newUsers = userIds.filter((u) => !byUser.has(u));
  if (newUsers.length > 0) {
    const ids = await resolveIdentities(tx, workspaceId, newUsers.map((userId) => ({ userId, at: now })), now);
    newUsers.forEach((u, i) => byUser.set(u, ids[i]!));
  }

  const newEmails = [...new Set(keys.flatMap((k) => (!k.userId && k.email && !byEmail.has(k.email.address) ? [k.email] : [])).map((e) => e.address))];
  if (newEmails.length > 0) {
    const checks = new Map(keys.flatMap((k) => (k.email ? [[k.email.address, k.email.check] as const] : [])));
    const created = await tx.query<{ id: number; email: string }>(
      `insert into contacts (workspace_id, email, email_check, first_seen_at, last_seen_at, created_at, updated_at)
       select $1, e, k, $4, $4, $4, $4 from unnest($2::text[], $3::jsonb[]) as v(e, k)
       returning id, email`,
      [workspaceId, newEmails, newEmails.map((e) => JSON.stringify(checks.get(e))), now],
    );
    for (const r of created.rows) byEmail.set(r.email, r.id);
  }

  return keys.map((k) => (k.userId ? byUser.get(k.userId)! : byEmail.get(k.email!.address)!));
}
