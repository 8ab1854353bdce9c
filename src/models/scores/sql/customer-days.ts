import { readCopyBinary } from '../../../db/copy-binary.ts';
import { sqlInteger, sqlLiteral, type Queryable } from '../../../db/index.ts';
import { parseNumbers } from './arrays.ts';

/**
 * The per-customer summary every model starts from, computed in the database from the order
 * history: purchase days (a customer's completed orders on one UTC calendar day are one purchase,
 * as in Fader, Hardie & Lee's CDNOW conventions), the first, last and previous-to-last purchase
 * day, the spend on repeat days and in total, up to and including the as-of day.
 *
 * Why it is shaped this way (measured on 1,000,000 customers / 2.8 million orders, Postgres 15):
 * - The index `orders_model_inputs` (0009b) holds (workspace, contact, UTC day) with the order time
 *   and total included, for completed orders only, so the scan is index-only and already sorted:
 *   the day grouping, the `lag` window and the per-customer grouping all stream, with no sort and
 *   no hash table (hashing 2.8 million (contact, day) groups took 3.5–6 s; this plan about 2.4 s,
 *   and it stops after one page).
 * - Repeat spend needs the first day of each customer: `lag` marks every day but the first.
 *   The gap before the last purchase day rides in the low digits of max(day * 100000 + gap).
 * - A page is returned as one row of parallel arrays (one array per column), as text literals
 *   parsed by arrays.ts: a fraction of the cost of an object per row, or of the drivers' parsers.
 * - Pages are keyed by contact id (`contact_id > $after … limit`), so memory stays flat and two
 *   ranges of ids can be read over two connections at once.
 */

/** The grouped, windowed per-customer subquery; `$1` workspace, `$2` as-of day, and a contact filter. */
export function customerDaysSql(contactFilter: string): string {
  return `select contact_id,
           count(*)::int - 1 as x,
           min(day) - date '1970-01-01' as first_day,
           max(day) - date '1970-01-01' as last_day,
           (max((day - date '1970-01-01')::bigint * 100000 + coalesce(day - prev, 0)) % 100000)::int as last_gap,
           coalesce(sum(amount) filter (where prev is not null), 0)::float8 as repeat_spend,
           sum(amount)::float8 as spend
      from (select contact_id, day, amount, lag(day) over (partition by contact_id order by day) as prev
              from (select contact_id, (ordered_at at time zone 'UTC')::date as day, sum(total) as amount
                      from orders
                     where workspace_id = $1 and status = 'completed' and ${contactFilter}
                       and (ordered_at at time zone 'UTC')::date <= $2::date
                     group by contact_id, (ordered_at at time zone 'UTC')::date) by_day) windowed
     group by contact_id`;
}

const arrays = `
  select coalesce(array_agg(contact_id), '{}')::text as id, coalesce(array_agg(x), '{}')::text as x,
         coalesce(array_agg(first_day), '{}')::text as first_day, coalesce(array_agg(last_day), '{}')::text as last_day,
         coalesce(array_agg(last_gap), '{}')::text as last_gap, coalesce(array_agg(repeat_spend), '{}')::text as repeat_spend,
         coalesce(array_agg(spend), '{}')::text as spend, count(*)::int as n, max(contact_id) as last_id`;

/**
 * One page of customers (contacts with at least one completed order by the as-of day) whose ids
 * are in ($3, $4], at most $5 of them. `$1` workspace, `$2` as-of day (YYYY-MM-DD). The limit
 * also steers the planner to the streaming plan when the tables have no statistics yet (the
 * embedded database never analyses on its own).
 */
export const customersPageSql = `${arrays}
    from (${customerDaysSql('contact_id > $3 and contact_id <= $4')} order by contact_id limit $5) page`;

/** The customers among some contacts (`$3` ids). */
export const customersByIdSql = `${arrays}
    from (${customerDaysSql('contact_id = any($3::bigint[])')}) page`;

/** A page of customers: parallel arrays, one entry per customer, sorted by contact id. */
export type CustomersPage = {
  id: number[]; x: number[]; first_day: number[]; last_day: number[]; last_gap: number[]; repeat_spend: number[]; spend: number[]; n: number; last_id: number | null;
};

/** The row {@link customersPageSql} and {@link customersByIdSql} return: array literals (see arrays.ts). */
export type CustomersPageRow = Record<Exclude<keyof CustomersPage, 'n' | 'last_id'>, string> & { n: number; last_id: number | null };

/** Parses the array literals of a page. */
export function parseCustomersPage(row: CustomersPageRow): CustomersPage {
  const numbers = (literal: string) => parseNumbers(literal) as number[];
  return {
    id: numbers(row.id), x: numbers(row.x), first_day: numbers(row.first_day), last_day: numbers(row.last_day), last_gap: numbers(row.last_gap),
    repeat_spend: numbers(row.repeat_spend), spend: numbers(row.spend), n: row.n, last_id: row.last_id,
  };
}

/** The smallest and largest contact id of a workspace, to split the fit into ranges. */
export const contactIdRangeSql = `select min(id) as lo, max(id) as hi from contacts where workspace_id = $1`;

/**
 * Contact order versions (0024), sorted by contact id: a contact without one has had no order since
 * versions were kept (0024 gave every customer then version 1).
 */
export type OrderVersions = { id: number[]; version: number[] };

/** The order versions of the contacts with ids in (after, upTo], or of the given ids; by COPY in binary format. */
export async function readOrderVersions(q: Queryable, workspaceId: string, contacts: { after: number; upTo: number } | readonly number[]): Promise<OrderVersions> {
  if (!q.copyTo) throw new Error('reading order versions needs a database connection that supports COPY');
  const filter = 'after' in contacts
    ? `contact_id > ${sqlInteger(contacts.after)} and contact_id <= ${sqlInteger(contacts.upTo)}`
    : `contact_id = any('{${contacts.map(sqlInteger).join(',')}}'::bigint[])`;
  const [id, version] = readCopyBinary(
    await q.copyTo(`select contact_id, version from customer_order_versions where workspace_id = ${sqlLiteral(workspaceId)} and ${filter} order by contact_id`),
    ['int', 'int'],
  );
  return { id: id as number[], version: version as number[] };
}

/**
 * A full run's mark: the oldest transaction still running when the run begins (the xmin of a
 * snapshot taken then, as text). Every transaction below it had finished before the run read
 * anything (0029).
 */
export const snapshotXminSql = `select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`;

/**
 * The order versions bumped by a transaction at or above a run's mark (`$2`, 0029), at most `$3`
 * of them, sorted by contact id (`$1` workspace): the contacts whose orders may have changed since
 * that run read them. One pass over the workspace's versions, once per run.
 */
export const versionsChangedSinceSql = `
  select coalesce(array_agg(contact_id order by contact_id), '{}')::text as id, coalesce(array_agg(version order by contact_id), '{}')::text as version
    from (select contact_id, version from customer_order_versions where workspace_id = $1 and changed_xid >= $2::xid8 limit $3) v`;

/**
 * Contacts with an order on a UTC day in ($2, $3] (`$1` workspace), at most `$4` of them: orders
 * that a summary stored as of day $2 left out but a scoring as of $3 counts. Read through the
 * (workspace, ordered_at) index.
 */
export const orderedBetweenSql = `
  select coalesce(array_agg(contact_id), '{}')::text as id
    from (select distinct contact_id from orders
           where workspace_id = $1 and status = 'completed'
             and ordered_at >= (($2::date + 1)::timestamp at time zone 'UTC') and ordered_at < (($3::date + 1)::timestamp at time zone 'UTC')
           limit $4) c`;
