import type { Db } from '../db/index.ts';

export { upsertProducts, type ProductInput } from './products.ts';
export { commerceFields, mergeLines, type CommerceFields, type ProductMention } from './commerce.ts';
export { commerceEvents, isCommerceEvent, CommerceProduct, type CommerceEventName } from './commerce-schema.ts';

export type Product = {
  sku: string; name: string; category: string | null; price: number | null; currency: string | null; url: string | null; imageUrl: string | null;
  lifetimeDays: number | null; relatedSkus: string[]; upgradeSkus: string[]; properties: Record<string, unknown>; createdAt: Date; updatedAt: Date;
};
export type Order = {
  orderId: string; contactId: number; userId: string | null; email: string | null; status: string; total: number; currency: string | null;
  coupon: string | null; discount: number | null; orderedAt: Date; items?: { sku: string; name: string | null; quantity: number; unitPrice: number }[];
};

type ProductRow = {
  sku: string; name: string; category: string | null; price: number | null; currency: string | null; url: string | null; image_url: string | null;
  lifetime_days: number | null; related_skus: string[]; upgrade_skus: string[]; properties: Record<string, unknown>; created_at: Date; updated_at: Date;
};
const toProduct = (r: ProductRow): Product => ({
  sku: r.sku, name: r.name, category: r.category, price: r.price, currency: r.currency, url: r.url, imageUrl: r.image_url, lifetimeDays: r.lifetime_days,
  relatedSkus: r.related_skus, upgradeSkus: r.upgrade_skus, properties: r.properties, createdAt: r.created_at, updatedAt: r.updated_at,
});
type OrderRow = {
  order_id: string; contact_id: number; user_id: string | null; email: string | null; status: string; total: number; currency: string | null;
  coupon: string | null; discount: number | null; ordered_at: Date;
};
const toOrder = (r: OrderRow): Order => ({
  orderId: r.order_id, contactId: r.contact_id, userId: r.user_id, email: r.email, status: r.status, total: r.total, currency: r.currency,
  coupon: r.coupon, discount: r.discount, orderedAt: r.ordered_at,
});
const ORDER_SELECT = `select o.order_id, o.contact_id, c.user_id, c.email, o.status, o.total, o.currency, o.coupon, o.discount, o.ordered_at
  from orders o left join contacts c on c.workspace_id = o.workspace_id and c.id = o.contact_id`;

/** Reading the catalog, orders and carts. */
export function createCatalogService({ db }: { db: Db }) {
  return {
    async products(workspaceId: string, options: { q?: string; category?: string; limit?: number; after?: string } = {}): Promise<Product[]> {
      const params: unknown[] = [workspaceId, Math.min(Math.max(options.limit ?? 100, 1), 1000), options.after ?? ''];
      let where = `workspace_id = $1 and sku > $3`;
      if (options.category) {
        params.push(options.category);
        where += ` and category = $${params.length}`;
      }
      if (options.q) {
        params.push(`%${options.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        where += ` and (sku ilike $${params.length} or name ilike $${params.length})`;
      }
      const { rows } = await db.query<ProductRow>(`select * from products where ${where} order by sku limit $2`, params);
      return rows.map(toProduct);
    },

    async product(workspaceId: string, sku: string): Promise<Product | null> {
      const { rows } = await db.query<ProductRow>(`select * from products where workspace_id = $1 and sku = $2`, [workspaceId, sku]);
      return rows[0] ? toProduct(rows[0]) : null;
    },

    /** Orders newest first; `contactId` narrows to one contact. Pages by order time (`before`). */
    async orders(workspaceId: string, options: { contactId?: number; limit?: number; before?: Date } = {}): Promise<Order[]> {
      const params: unknown[] = [workspaceId, Math.min(Math.max(options.limit ?? 100, 1), 1000), options.before ?? new Date('9999-01-01')];
      let where = `o.workspace_id = $1 and o.ordered_at < $3`;
      if (options.contactId !== undefined) {
        params.push(options.contactId);
        where += ` and o.contact_id = $${params.length}`;
      }
      const { rows } = await db.query<OrderRow>(`${ORDER_SELECT} where ${where} order by o.ordered_at desc, o.order_id limit $2`, params);
      return rows.map(toOrder);
    },

    async order(workspaceId: string, orderId: string): Promise<Order | null> {
      const { rows } = await db.query<OrderRow>(`${ORDER_SELECT} where o.workspace_id = $1 and o.order_id = $2`, [workspaceId, orderId]);
      if (!rows[0]) return null;
      const items = await db.query<{ sku: string; name: string | null; quantity: number; unit_price: number }>(
        `select i.sku, p.name, i.quantity, i.unit_price from order_items i
           left join products p on p.workspace_id = i.workspace_id and p.sku = i.sku
          where i.workspace_id = $1 and i.order_id = $2 order by i.sku`,
        [workspaceId, orderId],
      );
      return { ...toOrder(rows[0]), items: items.rows.map((r) => ({ sku: r.sku, name: r.name, quantity: r.quantity, unitPrice: r.unit_price })) };
    },

    /** A contact's carts with their items, newest first. */
    async carts(workspaceId: string, contactId: number) {
      const { rows } = await db.query<{ cart_id: string; status: string; coupon: string | null; order_id: string | null; updated_at: Date; items: { sku: string; quantity: number; unit_price: number | null }[] }>(
        `select c.cart_id, c.status, c.coupon, c.order_id, c.updated_at,
                coalesce(json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity, 'unit_price', i.unit_price) order by i.sku) filter (where i.sku is not null), '[]') as items
           from carts c left join cart_items i on i.workspace_id = c.workspace_id and i.cart_id = c.cart_id
          where c.workspace_id = $1 and c.contact_id = $2 group by c.cart_id, c.status, c.coupon, c.order_id, c.updated_at
          order by c.updated_at desc limit 50`,
        [workspaceId, contactId],
      );
      return rows.map((r) => ({ cartId: r.cart_id, status: r.status, coupon: r.coupon, orderId: r.order_id, updatedAt: r.updated_at, items: r.items }));
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
