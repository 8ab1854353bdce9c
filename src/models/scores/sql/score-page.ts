/**
 * The contacts to score: every live (not merged) contact that is known (a user id or an email) or
 * has ordered. Anonymous visitors who never ordered are not scored: there is nobody to message.
 *
 * A page is two queries, merged in memory by contact id (both come back sorted by it): the
 * contacts, here, and their order summaries over the same id range (customer-days.ts). Joining
 * them in SQL looked natural, but without statistics (a fresh import, and always on the embedded
 * database, which never analyses by itself) the planner estimated one row on each side and
 * re-ran the order summary once per contact: 12 s for the 2,357 CDNOW customers.
 */

import { readCopyBinary } from '../../../db/copy-binary.ts';
import { sqlInteger, sqlLiteral, type Queryable } from '../../../db/index.ts';
import { parseBooleans, parseNumbers } from './arrays.ts';

// The user ids are only read for the predictions export: scoring has no use for them, and a
// million of them cost the Node side about 0.15 s to parse.
const page = (userIds: boolean, filter: string, limit: string) => `
  select coalesce(array_agg(id), '{}')::text as id, ${userIds ? `coalesce(array_agg(user_id), '{}')` : `'{}'::text[]`} as user_id,
         coalesce(array_agg(known), '{}')::text as known, coalesce(array_agg(live), '{}')::text as live,
         count(*)::int as n, max(id) as last_id
    from (select c.id, c.user_id, c.user_id is not null or c.email is not null as known, c.merged_into is null as live
            from contacts c where c.workspace_id = $1 and ${filter} order by c.id${limit}) page`;

/** Contacts with ids in ($2, $3], at most $4, in id order. `$1` workspace. */
export const contactsPageSql = page(false, 'c.id > $2 and c.id <= $3', ' limit $4');
/** The same, with their user ids. */
export const contactsPageWithUserIdsSql = page(true, 'c.id > $2 and c.id <= $3', ' limit $4');

/** The given contacts (`$2` ids). */
export const contactsByIdSql = page(false, 'c.id = any($2::bigint[])', '');

/**
 * Up to `limit` contacts with ids in (after, upTo], read by COPY in binary format (as the stored
 * scores are, sql/stored-scores.ts): what a full rescoring reads of every contact.
 */
export async function copyContactsPage(q: Queryable, workspaceId: string, after: number, upTo: number, limit: number): Promise<ContactsPage> {
  if (!q.copyTo) throw new Error('reading contacts to score needs a database connection that supports COPY');
  const [id, known, live] = readCopyBinary(
    await q.copyTo(`select c.id, c.user_id is not null or c.email is not null, c.merged_into is null from contacts c
                     where c.workspace_id = ${sqlLiteral(workspaceId)} and c.id > ${sqlInteger(after)} and c.id <= ${sqlInteger(upTo)} order by c.id limit ${sqlInteger(limit)}`),
    ['int', 'int', 'int'],
  );
  const ids = id as number[];
  return { id: ids, user_id: [], known: known!.map((k) => k === 1), live: live!.map((l) => l === 1), n: ids.length, last_id: ids.length > 0 ? ids[ids.length - 1]! : null };
}

/** A page of contacts; `user_id` is empty unless asked for. */
export type ContactsPage = { id: number[]; user_id: (string | null)[]; known: boolean[]; live: boolean[]; n: number; last_id: number | null };

/** The row of {@link contactsPageSql} / {@link contactsByIdSql}: ids and flags as array literals (arrays.ts). */
export type ContactsPageRow = { id: string; user_id: (string | null)[]; known: string; live: string; n: number; last_id: number | null };

export function parseContactsPage(row: ContactsPageRow): ContactsPage {
  return { id: parseNumbers(row.id) as number[], user_id: row.user_id, known: parseBooleans(row.known), live: parseBooleans(row.live), n: row.n, last_id: row.last_id };
}

/** A page ready to score: the scored contacts with their order summaries (null for prospects). */
export type ScorePage = {
  id: number[];
  user_id: (string | null)[];
  x: (number | null)[];
  first_day: (number | null)[];
  last_day: (number | null)[];
  last_gap: (number | null)[];
  repeat_spend: (number | null)[];
  spend: (number | null)[];
  /** The contact's order version when the page was read (migrations/0024); null before their first order. */
  orders_version: (number | null)[];
  /** Contacts the page covered (scored or not). */
  page_size: number;
  last_id: number | null;
};
