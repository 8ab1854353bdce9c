import type { Queryable } from '../db/index.ts';

/**
 * Takes the named lease for `ms` if it is free or expired (or already ours). Returns whether this
 * holder has it. One statement, so two processes racing for it cannot both win.
 */
export async function takeLease(db: Queryable, name: string, holder: string, now: Date, ms: number): Promise<boolean> {
  const { rows } = await db.query<{ holder: string }>(
    `insert into leases (name, holder, expires_at) values ($1, $2, $3)
     on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
       where leases.expires_at <= $4 or leases.holder = excluded.holder
     returning holder`,
    [name, holder, new Date(now.getTime() + ms), now],
  );
  return rows.length > 0;
}
