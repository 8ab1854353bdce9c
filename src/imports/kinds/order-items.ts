import { z } from 'zod';
import { identifier, money, show, wholeNumber } from '../fields.ts';
import type { ImportKind, RowError } from '../types.ts';
import { lastWins } from './shared.ts';

export const OrderItemRow = z
  .object({
    order_id: identifier(200),
    sku: identifier(200),
    quantity: wholeNumber(1, 1_000_000),
    unit_price: money,
  })
  .strict()
  .transform((r) => ({ orderId: r.order_id, sku: r.sku, quantity: r.quantity, unitPrice: r.unit_price }));
export type OrderItemRow = z.infer<typeof OrderItemRow>;

/**
 * The lines of orders, keyed by (order_id, sku). Both must already be known: an item of an unknown
 * order or product would be invisible to every model, so it is refused with a hint to import
 * products and orders first.
 */
export const orderItemsKind: ImportKind<OrderItemRow> = {
  name: 'order-items',
  columns: [
    { name: 'order_id', type: 'text', required: true, description: 'An order already imported (or received through Order Completed).' },
    { name: 'sku', type: 'text', required: true, description: 'A product already in the catalog.' },
    { name: 'quantity', type: 'whole number ≥ 1', required: true, description: 'Units bought.' },
    { name: 'unit_price', type: 'decimal ≥ 0', required: true, description: 'Price of one unit in this order.' },
  ],
  requiredHeaders: [['order_id'], ['sku'], ['quantity'], ['unit_price']],
  extraColumns: 'refuse',
  schema: OrderItemRow,
  async write(ctx, rows) {
    const items = lastWins(rows, (i) => `${i.orderId}\u0000${i.sku}`);
    const orderIds = [...new Set(items.map((i) => i.value.orderId))];
    const skus = [...new Set(items.map((i) => i.value.sku))];
    return ctx.db.transaction(async (tx) => {
      const [knownOrders, knownSkus] = await Promise.all([
        tx.query<{ order_id: string }>(`select order_id from orders where workspace_id = $1 and order_id = any($2::text[])`, [ctx.workspaceId, orderIds]),
        tx.query<{ sku: string }>(`select sku from products where workspace_id = $1 and sku = any($2::text[])`, [ctx.workspaceId, skus]),
      ]);
      const orders = new Set(knownOrders.rows.map((r) => r.order_id));
      const products = new Set(knownSkus.rows.map((r) => r.sku));
      const errors: RowError[] = [];
      const ok = items.filter((r) => {
        if (!orders.has(r.value.orderId)) errors.push({ line: r.line, column: 'order_id', message: `unknown order ${show(r.value.orderId)}; import orders first` });
        else if (!products.has(r.value.sku)) errors.push({ line: r.line, column: 'sku', message: `unknown sku ${show(r.value.sku)}; import products first` });
        else return true;
        return false;
      });
      if (ok.length === 0) return errors;
      // Unchanged lines are left alone (the `where`), so re-importing a file writes nothing.
      await tx.query(
        `insert into order_items (workspace_id, order_id, sku, quantity, unit_price)
         select $1, o, s, q, p from unnest($2::text[], $3::text[], $4::int[], $5::numeric[]) as v(o, s, q, p)
         on conflict (workspace_id, order_id, sku) do update set quantity = excluded.quantity, unit_price = excluded.unit_price
         where (order_items.quantity, order_items.unit_price) is distinct from (excluded.quantity, excluded.unit_price)`,
        [ctx.workspaceId, ok.map((r) => r.value.orderId), ok.map((r) => r.value.sku), ok.map((r) => r.value.quantity), ok.map((r) => r.value.unitPrice)],
      );
      return errors;
    });
  },
};
