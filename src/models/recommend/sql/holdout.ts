import type { Queryable } from '../../../db/index.ts';

// The offline evaluation's data: per customer and product, whether it was bought before the
// cutoff (training) and in the test window after it, and when it was last bought before the
// cutoff (for a recency-weighted popularity baseline). One grouped pass over the order lines of
// the evaluated period; the evaluation is an offline command, so all pairs are held in memory.
const sql = `
select o.contact_id, i.sku,
       bool_or(o.ordered_at < $2) as train,
       bool_or(o.ordered_at >= $2) as test,
       max(o.ordered_at) filter (where o.ordered_at < $2) as last_before
  from orders o
  join order_items i on i.workspace_id = o.workspace_id and i.order_id = o.order_id
 where o.workspace_id = $1 and o.status = 'completed' and o.ordered_at < $3
 group by o.contact_id, i.sku`;

export type HoldoutPair = { contactId: number; sku: string; train: boolean; test: boolean; lastBefore: Date | null };

/** Every (customer, product) pair bought before `end`, split at `cutoff`. */
export async function holdoutPairs(db: Queryable, workspaceId: string, cutoff: Date, end: Date): Promise<HoldoutPair[]> {
  const { rows } = await db.query<{ contact_id: number; sku: string; train: boolean; test: boolean; last_before: Date | null }>(sql, [workspaceId, cutoff, end]);
  return rows.map((r) => ({ contactId: r.contact_id, sku: r.sku, train: r.train, test: r.test, lastBefore: r.last_before }));
}
