import type { Queryable } from '../db/index.ts';

/** Who a message is about, as the sender knows them. `previousId` only on alias messages. */
export type IdentityRef = { userId?: string; anonymousId?: string; previousId?: string; at: Date };

/**
 * Every id a batch names (user, anonymous and previous ids), in the order they are advisory-locked
 * in: sorted, by everything that locks identities (here, the ingest function and the contact
 * import), so that two writers never wait for each other's locks in a cycle.
 */
export function identityLockIds(refs: readonly Omit<IdentityRef, 'at'>[]): string[] {
  const ids = new Set<string>();
  for (const r of refs) {
    if (r.userId) ids.add(r.userId);
    if (r.anonymousId) ids.add(r.anonymousId);
    if (r.previousId) ids.add(r.previousId);
  }
  return [...ids].sort();
}

/**
 * Resolves every message of a batch to a contact id, creating contacts and merging profiles as
 * Segment's identity rules say:
 * - a user id is the known profile holding it (created on first sight), or, once that profile was
 *   merged away, the one it was merged into;
 * - an anonymous id seen alone gets an anonymous profile;
 * - a message with both links the anonymous id to the known profile, merging the anonymous profile
 *   (its events, orders, carts, consents and traits) into it;
 * - alias(previousId → userId) merges the profile known by previousId into userId's.
 * Runs inside the caller's transaction. Every id of the batch is advisory-locked first (in sorted
 * order, so two batches cannot deadlock), which makes "look up, then create or merge" safe when two
 * batches about the same visitor arrive at once on different connections.
 */
export async function resolveIdentities(
  tx: Queryable,
  workspaceId: string,
  refs: readonly IdentityRef[],
  now: Date,
  onMerge?: (from: number, into: number) => void,
): Promise<number[]> {
  const userIds = new Set<string>();
  const seen = new Map<string, { first: Date; last: Date }>();
  const see = (id: string, at: Date): void => {
    const s = seen.get(id);
    if (!s) seen.set(id, { first: at, last: at });
    else if (at < s.first) s.first = at;
    else if (at > s.last) s.last = at;
  };
  for (const r of refs) {
    if (r.userId) {
      userIds.add(r.userId);
      see(r.userId, r.at);
    }
    if (r.anonymousId) see(r.anonymousId, r.at);
  }
  const allIds = identityLockIds(refs);
  if (allIds.length === 0) return refs.map(() => 0);
  await tx.query(
    `select pg_advisory_xact_lock(hashtextextended($1 || ':' || id, 0))
       from unnest($2::text[]) with ordinality as t(id, ord) order by ord`,
    [workspaceId, allIds],
  );

  // Every id that already resolves through an alias (anonymous ids, previous user ids).
  const aliased = new Map<string, number>();
  const aliasRows = await tx.query<{ alias_id: string; contact_id: number }>(
    // One primary-key probe per id (see the note on plans below).
    `select a.alias_id, a.contact_id from unnest($2::text[]) as t(id)
       cross join lateral (select alias_id, contact_id from contact_aliases where workspace_id = $1 and alias_id = t.id limit 1) a`,
    [workspaceId, allIds],
  );
  for (const r of aliasRows.rows) aliased.set(r.alias_id, r.contact_id);

  // Known profiles. A user id is its own profile; else, once that profile was merged away, the
  // profile its alias names; else a new profile. (Its own profile first: an anonymous id that
  // happens to equal a customer's user id must not take their events.)
  const byUser = new Map<string, number>();
  const users = [...userIds];
  if (users.length > 0) {
    const firstSeen = users.map((u) => seen.get(u)!.first);
    const lastSeen = users.map((u) => seen.get(u)!.last);
    const isAlias = users.map((u) => aliased.has(u));
    // Existing profiles are read, not upserted: `on conflict do update` would write a new version
    // of every contact row in every batch (and first and last seen come from the events:
    // contacts/seen.ts). The lateral lookup (one unique-index probe per user id, with `user_id is
    // not null` so the partial index applies) keeps the plan right even before the table has
    // statistics; a join or `= any()` let Postgres scan every contact of the workspace while the
    // table was growing.
    const up = await tx.query<{ id: number; user_id: string }>(
      `with input as (select * from unnest($2::text[], $3::timestamptz[], $4::timestamptz[], $6::boolean[]) as t(u, f, l, alias)),
       existing as (select c.id, c.user_id from input i cross join lateral (select id, user_id from contacts c where c.workspace_id = $1 and c.user_id = i.u and c.user_id is not null limit 1) c),
       created as (
         insert into contacts (workspace_id, user_id, first_seen_at, last_seen_at, created_at, updated_at)
         select $1, u, f, l, $5, $5 from input where not alias and u not in (select user_id from existing) order by u
         on conflict (workspace_id, user_id) where user_id is not null do nothing
         returning id, user_id)
       select id, user_id from existing union all select id, user_id from created`,
      [workspaceId, users, firstSeen, lastSeen, now, isAlias],
    );
    for (const r of up.rows) byUser.set(r.user_id, r.id);
  }
  for (const u of userIds) if (!byUser.has(u)) byUser.set(u, aliased.get(u)!);

  // Which of the profiles found through aliases are anonymous (mergeable) and which are known.
  const known = new Set<number>(byUser.values());
  const aliasTargets = [...new Set(aliased.values())];
  if (aliasTargets.length > 0) {
    const k = await tx.query<{ id: number }>(
      `select c.id from unnest($2::bigint[]) as t(id)
         cross join lateral (select id from contacts where workspace_id = $1 and id = t.id and user_id is not null limit 1) c`,
      [workspaceId, aliasTargets],
    );
    for (const r of k.rows) known.add(r.id);
  }
  // previousIds that are another profile's current user id (which goes before an alias, as above).
  const previousUsers = new Map<string, number>();
  const prevIds = [...new Set(refs.flatMap((r) => (r.previousId ? [r.previousId] : [])))];
  if (prevIds.length > 0) {
    const p = await tx.query<{ id: number; user_id: string }>(
      `select id, user_id from contacts where workspace_id = $1 and user_id = any($2::text[])`,
      [workspaceId, prevIds],
    );
    for (const r of p.rows) previousUsers.set(r.user_id, r.id);
  }

  const merges = new Map<number, number>(); // from -> into
  const canonical = (id: number): number => {
    let c = id;
    while (merges.has(c)) c = merges.get(c)!;
    return c;
  };
  const newAliases = new Map<string, number>();
  const pending = new Set<string>();
  const link = (alias: string, into: number): void => {
    const existing = aliased.get(alias);
    if (existing === undefined) {
      aliased.set(alias, into);
      newAliases.set(alias, into);
    } else if (canonical(existing) !== into && !known.has(canonical(existing))) {
      merges.set(canonical(existing), into);
    }
    // An anonymous id already tied to another known profile (a shared device) stays where it is.
  };

  for (const r of refs) {
    const into = r.userId ? byUser.get(r.userId)! : undefined;
    if (r.previousId && into !== undefined) {
      const prevUser = previousUsers.get(r.previousId);
      if (prevUser !== undefined && canonical(prevUser) !== into) merges.set(canonical(prevUser), into);
      else link(r.previousId, into);
    }
    if (r.anonymousId) {
      if (into !== undefined) link(r.anonymousId, into);
      else if (!aliased.has(r.anonymousId) && !pending.has(r.anonymousId)) pending.add(r.anonymousId);
    }
  }

  // An anonymous id that a later message of this batch tied to a known profile needs no profile of its own.
  const pendingAnon = [...pending].filter((a) => !aliased.has(a));
  if (pendingAnon.length > 0) {
    const firstSeen = pendingAnon.map((a) => seen.get(a)!.first);
    const lastSeen = pendingAnon.map((a) => seen.get(a)!.last);
    const created = await tx.query<{ id: number; ord: number }>(
      `with input as (select * from unnest($2::timestamptz[], $3::timestamptz[]) with ordinality as t(f, l, ord)),
       ins as (
         insert into contacts (workspace_id, first_seen_at, last_seen_at, created_at, updated_at)
         select $1, f, l, $4, $4 from input order by ord returning id
       )
       select id, row_number() over (order by id) as ord from ins`,
      [workspaceId, firstSeen, lastSeen, now],
    );
    // Identity values are handed out in insertion order, so sorting by id restores the input order.
    for (const r of created.rows) {
      const anon = pendingAnon[r.ord - 1]!;
      aliased.set(anon, r.id);
      newAliases.set(anon, r.id);
    }
  }
  if (newAliases.size > 0) {
    await tx.query(
      `insert into contact_aliases (workspace_id, alias_id, contact_id)
       select $1, a, c from unnest($2::text[], $3::bigint[]) as t(a, c)
       on conflict (workspace_id, alias_id) do update set contact_id = excluded.contact_id`,
      [workspaceId, [...newAliases.keys()], [...newAliases.values()].map(canonical)],
    );
  }
  for (const [from] of merges) {
    await mergeContact(tx, workspaceId, from, canonical(from), now);
    onMerge?.(from, canonical(from));
  }

  return refs.map((r) => {
    if (r.userId) return canonical(byUser.get(r.userId)!);
    return canonical(aliased.get(r.anonymousId ?? r.previousId ?? '')!);
  });
}

/** Moves everything of contact `from` onto `into` and leaves `from` as a tombstone. */
export async function mergeContact(tx: Queryable, workspaceId: string, from: number, into: number, now: Date): Promise<void> {
  const params = [workspaceId, from, into];
  await tx.query(`update events set contact_id = $3 where workspace_id = $1 and contact_id = $2`, params);
  await tx.query(`update orders set contact_id = $3 where workspace_id = $1 and contact_id = $2`, params);
  await tx.query(`update carts set contact_id = $3 where workspace_id = $1 and contact_id = $2`, params);
  await tx.query(`update contact_aliases set contact_id = $3 where workspace_id = $1 and contact_id = $2`, params);
  // What messaging knows of the visitor goes with them: their browser's push subscription, the
  // messages and decisions (frequency caps count them), coupons, lists, and their journeys — a live
  // run of a journey the surviving profile is also in ends, so nobody is in one journey twice.
  for (const table of ['push_subscriptions', 'messages', 'policy_decisions', 'coupons']) {
    await tx.query(`update ${table} set contact_id = $3 where workspace_id = $1 and contact_id = $2`, params);
  }
  await tx.query(
    `insert into contact_lists (workspace_id, list, contact_id, added_at)
     select workspace_id, list, $3, added_at from contact_lists where workspace_id = $1 and contact_id = $2 on conflict do nothing`,
    params,
  );
  await tx.query(`delete from contact_lists where workspace_id = $1 and contact_id = $2`, [workspaceId, from]);
  await tx.query(
    `update journey_runs r set state = 'exited', due_at = null, wait = null, last_error = 'merged into a profile already in this journey', finished_at = $4, updated_at = $4
      where r.workspace_id = $1 and r.contact_id = $2 and r.state in ('active', 'waiting')
        and exists (select 1 from journey_runs o where o.workspace_id = $1 and o.contact_id = $3 and o.journey_id = r.journey_id and o.state in ('active', 'waiting'))`,
    [...params, now],
  );
  await tx.query(`update journey_runs set contact_id = $3 where workspace_id = $1 and contact_id = $2`, params);
  await tx.query(
    `insert into contact_consents (workspace_id, contact_id, channel, topic, granted, source, updated_at)
     select workspace_id, $3, channel, topic, granted, source, updated_at from contact_consents
      where workspace_id = $1 and contact_id = $2
     on conflict do nothing`,
    params,
  );
  await tx.query(`delete from contact_consents where workspace_id = $1 and contact_id = $2`, [workspaceId, from]);
  // The surviving profile keeps its own values; the merged one only fills gaps.
  await tx.query(
    `update contacts c set traits = f.traits || c.traits,
            email = coalesce(c.email, f.email), email_check = coalesce(c.email_check, f.email_check),
            phone = coalesce(c.phone, f.phone), timezone = coalesce(c.timezone, f.timezone), locale = coalesce(c.locale, f.locale),
            first_seen_at = least(c.first_seen_at, f.first_seen_at), last_seen_at = greatest(c.last_seen_at, f.last_seen_at),
            updated_at = $4
       from contacts f where c.workspace_id = $1 and c.id = $3 and f.workspace_id = $1 and f.id = $2`,
    [...params, now],
  );
  await tx.query(
    `insert into contact_aliases (workspace_id, alias_id, contact_id)
     select workspace_id, user_id, $3 from contacts where workspace_id = $1 and id = $2 and user_id is not null
     on conflict (workspace_id, alias_id) do update set contact_id = excluded.contact_id`,
    params,
  );
  await tx.query(
    `update contacts set merged_into = $3, user_id = null, traits = '{}', email = null, phone = null, updated_at = $4
      where workspace_id = $1 and id = $2`,
    [...params, now],
  );
}
