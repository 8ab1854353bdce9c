import type { Queryable } from '../../../db/index.ts';

// What a contact has: the input of "for you". The contact's distinct products from completed
// orders; a contact has tens of orders, found through orders_contact_time, so this is a handful of
// index lookups per request.
const sql = `
select distinct i.sku
  from orders o
  join order_items i on i.workspace_id = o.workspace_id and i.order_id = o.order_id
 where o.workspace_id = $1 and o.contact_id = $2 and o.status = 'completed'`;

/** The distinct products a contact has bought (and not returned). */
export async function contactItems(db: Queryable, workspaceId: string, contactId: number): Promise<string[]> {
  const { rows } = await db.query<{ sku: string }>(sql, [workspaceId, contactId]);
  return rows.map((r) => r.sku);
}
