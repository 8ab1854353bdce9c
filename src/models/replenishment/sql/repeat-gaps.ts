import type { Queryable } from '../../../db/index.ts';
import type { GapStats } from '../intervals.ts';

// Per product, the days between one customer's consecutive purchases of it, per unit of the earlier
// purchase, summarised as count and quartiles. All of it runs in the database: the window functions
// walk the order lines once in (contact, sku, time) order and only one row per product comes back,
// so learning the intervals of a shop with millions of order lines moves a few kilobytes.
// Orders of the same product within a day are one purchase (a forgotten item sent as a second
// order), so the "gap" of a few hours never drags the median down. Only completed orders count:
// a refunded product was not used up.
const sql = `
with lines as (
  select o.contact_id, i.sku, o.ordered_at, i.quantity
    from orders o
    join order_items i on i.workspace_id = o.workspace_id and i.order_id = o.order_id
   where o.workspace_id = $1 and o.status = 'completed' and o.ordered_at < $2
), marked as (
  select contact_id, sku, ordered_at, quantity,
         case when ordered_at - lag(ordered_at) over w < interval '1 day' then 0 else 1 end as starts
    from lines
  window w as (partition by contact_id, sku order by ordered_at)
), numbered as (
  select contact_id, sku, ordered_at, quantity,
         sum(starts) over (partition by contact_id, sku order by ordered_at rows unbounded preceding) as purchase
    from marked
), purchases as (
  select contact_id, sku, min(ordered_at) as at, sum(quantity) as quantity
    from numbered group by contact_id, sku, purchase
), gaps as (
  select contact_id, sku, extract(epoch from at - lag(at) over w) / 86400.0 / lag(quantity) over w as gap
    from purchases
  window w as (partition by contact_id, sku order by at)
)
select sku,
       count(gap)::int as observations,
       count(distinct contact_id)::int as buyers,
       count(distinct contact_id) filter (where gap is not null)::int as repeat_buyers,
       percentile_cont(0.25) within group (order by gap)::float8 as q1,
       percentile_cont(0.5) within group (order by gap)::float8 as median,
       percentile_cont(0.75) within group (order by gap)::float8 as q3
  from gaps
 group by sku`;

type Row = { sku: string; observations: number; buyers: number; repeat_buyers: number; q1: number | null; median: number | null; q3: number | null };

/** Repeat-purchase statistics of every product bought before `asOf`. */
export async function repeatGaps(db: Queryable, workspaceId: string, asOf: Date): Promise<GapStats[]> {
  const { rows } = await db.query<Row>(sql, [workspaceId, asOf]);
  return rows.map((r) => ({ sku: r.sku, observations: r.observations, buyers: r.buyers, repeatBuyers: r.repeat_buyers, q1: r.q1, median: r.median, q3: r.q3 }));
}
