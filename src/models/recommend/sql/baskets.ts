import type { Queryable } from '../../../db/index.ts';

// The distinct products each customer bought before `asOf` (completed orders only: a refunded
// product is not one they kept), streamed in (contact, sku) order in pages of `$5` rows, keyed by
// the last (contact, sku) seen so a page never repeats or skips a row. Fitting needs only these
// pairs, not order times or amounts, so the database does the de-duplication and a shop with
// millions of order lines sends each pair once.
const sql = `
select o.contact_id, i.sku
  from orders o
  join order_items i on i.workspace_id = o.workspace_id and i.order_id = o.order_id
 where o.workspace_id = $1 and o.status = 'completed' and o.ordered_at < $2
   and (o.contact_id, i.sku) > ($3::bigint, $4::text)
 group by o.contact_id, i.sku
 order by o.contact_id, i.sku
 limit $5`;

/** Yields each customer's distinct products bought before `asOf`, one customer at a time. */
export async function* readBaskets(db: Queryable, workspaceId: string, asOf: Date, pageSize = 50_000): AsyncGenerator<{ contactId: number; skus: string[] }> {
  let after: [number, string] = [-1, ''];
  let current: { contactId: number; skus: string[] } | null = null;
  for (;;) {
    const { rows } = await db.query<{ contact_id: number; sku: string }>(sql, [workspaceId, asOf, after[0], after[1], pageSize]);
    for (const r of rows) {
      if (current && current.contactId !== r.contact_id) {
        yield current;
        current = null;
      }
      current ??= { contactId: r.contact_id, skus: [] };
      current.skus.push(r.sku);
    }
    const last = rows[rows.length - 1];
    if (!last || rows.length < pageSize) break;
    after = [last.contact_id, last.sku];
  }
  if (current) yield current;
}
