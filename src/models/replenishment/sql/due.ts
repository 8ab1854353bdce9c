import type { Queryable } from '../../../db/index.ts';
import type { ProductInterval } from '../intervals.ts';

// When each contact's replacement is due: last purchase + interval × units of that purchase (orders
// within a day before the last one count into it, as in repeat-gaps.ts). The intervals come in as
// arrays rather than from replenishment_intervals, so one statement serves both the stored refresh
// and the offline evaluation, which needs due dates as of a past cutoff with intervals learned
// before it. `$6` narrows to some contacts (the ones who just ordered); null means all. The join to
// the intervals first keeps durable goods' order lines out of the aggregation entirely. The last
// purchase is found with a window function rather than a self-join of the lines: the planner cannot
// estimate a CTE joined to itself and chose a nested loop that took 32 s on the 5,000-customer
// demo shop, against well under a second for this single pass.
const select = `
with intervals as (
  select * from unnest($3::text[], $4::float8[], $5::text[]) as t(sku, interval_days, source)
), lines as (
  select o.contact_id, i.sku, o.ordered_at, i.quantity, t.interval_days, t.source,
         max(o.ordered_at) over (partition by o.contact_id, i.sku) as last_at
    from orders o
    join order_items i on i.workspace_id = o.workspace_id and i.order_id = o.order_id
    join intervals t on t.sku = i.sku
   where o.workspace_id = $1 and o.status = 'completed' and o.ordered_at < $2
     and ($6::bigint[] is null or o.contact_id = any($6::bigint[]))
)
select contact_id, sku, last_at as last_ordered_at, sum(quantity)::int as quantity, interval_days, source,
       last_at + interval_days * sum(quantity) * interval '1 day' as due_at
  from lines
 where ordered_at > last_at - interval '1 day'
 group by contact_id, sku, last_at, interval_days, source`;

export type DueRow = { contactId: number; sku: string; lastOrderedAt: Date; quantity: number; intervalDays: number; source: string; dueAt: Date };

type Row = { contact_id: number; sku: string; last_ordered_at: Date; quantity: number; interval_days: number; source: string; due_at: Date };

const params = (workspaceId: string, asOf: Date, intervals: readonly ProductInterval[], contactIds: readonly number[] | null) => [
  workspaceId,
  asOf,
  intervals.map((i) => i.sku),
  intervals.map((i) => i.intervalDays),
  intervals.map((i) => i.source),
  contactIds,
];

/** Due dates as of `asOf` for the given intervals, without storing them (the evaluation's view). */
export async function dueRows(db: Queryable, workspaceId: string, asOf: Date, intervals: readonly ProductInterval[], contactIds: readonly number[] | null = null): Promise<DueRow[]> {
  const { rows } = await db.query<Row>(select, params(workspaceId, asOf, intervals, contactIds));
  return rows.map((r) => ({
    contactId: r.contact_id, sku: r.sku, lastOrderedAt: r.last_ordered_at, quantity: r.quantity, intervalDays: r.interval_days, source: r.source, dueAt: r.due_at,
  }));
}

/**
 * Replaces the stored due dates of some contacts (or, with null, of the whole workspace) in one
 * transaction, so a reader never sees a contact without their rows. Returns the rows written.
 */
export async function refreshDue(db: Queryable, workspaceId: string, asOf: Date, intervals: readonly ProductInterval[], contactIds: readonly number[] | null): Promise<number> {
  await db.query(`delete from replenishment_due where workspace_id = $1 and ($2::bigint[] is null or contact_id = any($2::bigint[]))`, [workspaceId, contactIds]);
  if (intervals.length === 0) return 0;
  const r = await db.query(
    `insert into replenishment_due (workspace_id, contact_id, sku, last_ordered_at, quantity, interval_days, source, due_at)
     select $1, contact_id, sku, last_ordered_at, quantity, interval_days, source, due_at from (${select}) d`,
    params(workspaceId, asOf, intervals, contactIds),
  );
  return r.rowCount;
}
