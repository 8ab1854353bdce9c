import type { Queryable } from '../db/index.ts';
import { assertNever } from '../core/result.ts';
import {
  commerceEvents,
  skuOf,
  type CartEventProps,
  type CheckoutEventProps,
  type CommerceEventName,
  type CommerceProduct,
  type CouponEventProps,
  type OrderEventProps,
  type ProductEventProps,
  type RefundEventProps,
} from './commerce-schema.ts';

/** An e-commerce event that was stored for the first time, with its properties already validated. */
export type CommerceEvent = { name: CommerceEventName; contactId: number; messageId: string; occurredAt: Date; properties: unknown };

/**
 * Keeps carts, orders and the catalog current from Segment e-commerce events. Runs in the
 * ingesting transaction, only for events stored for the first time, so a redelivered event
 * never adds an item twice. Products the catalog does not know yet are added from the event's
 * own product fields (the catalog import remains the source of truth: existing products are not
 * overwritten).
 */
export async function applyCommerceEvents(tx: Queryable, workspaceId: string, events: readonly CommerceEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  // Every product the batch mentions, each field taken from whichever event states it.
  const products = new Map<string, CommerceProduct>();
  const mention = (p: CommerceProduct) => {
    const known = products.get(skuOf(p));
    products.set(skuOf(p), known ? { ...known, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } : p);
  };
  for (const e of events) {
    const props = commerceEvents[e.name].parse(e.properties) as { products?: CommerceProduct[] } & Partial<CommerceProduct>;
    if (props.sku !== undefined || props.product_id !== undefined) mention(props as CommerceProduct);
    for (const p of props.products ?? []) mention(p);
  }
  await ensureProducts(tx, workspaceId, [...products.values()], now);
  for (const e of events) await applyOne(tx, workspaceId, e, now);
}

async function applyOne(tx: Queryable, ws: string, e: CommerceEvent, now: Date): Promise<void> {
  const at = e.occurredAt;
  switch (e.name) {
    case 'Product Viewed':
      return;
    case 'Product Added': {
      const p = commerceEvents[e.name].parse(e.properties) as ProductEventProps;
      const cart = await openCart(tx, ws, e.contactId, p.cart_id, at);
      await tx.query(
        `insert into cart_items (workspace_id, cart_id, sku, quantity, unit_price, added_at) values ($1, $2, $3, $4, $5, $6)
         on conflict (workspace_id, cart_id, sku) do update
           set quantity = cart_items.quantity + excluded.quantity, unit_price = coalesce(excluded.unit_price, cart_items.unit_price)`,
        [ws, cart, skuOf(p), p.quantity ?? 1, p.price ?? null, at],
      );
      return;
    }
    case 'Product Removed': {
      const p = commerceEvents[e.name].parse(e.properties) as ProductEventProps;
      const cart = await openCart(tx, ws, e.contactId, p.cart_id, at);
      const line = [ws, cart, skuOf(p), p.quantity ?? 1];
      await tx.query(`delete from cart_items where workspace_id = $1 and cart_id = $2 and sku = $3 and quantity <= $4`, line);
      await tx.query(`update cart_items set quantity = quantity - $4 where workspace_id = $1 and cart_id = $2 and sku = $3`, line);
      return;
    }
    case 'Cart Viewed': {
      const p = commerceEvents[e.name].parse(e.properties) as CartEventProps;
      const cart = await openCart(tx, ws, e.contactId, p.cart_id, at);
      if (p.products) await replaceCartItems(tx, ws, cart, p.products, at);
      return;
    }
    case 'Checkout Started': {
      const p = commerceEvents[e.name].parse(e.properties) as CheckoutEventProps;
      const cart = await openCart(tx, ws, e.contactId, p.cart_id ?? p.checkout_id, at);
      if (p.products) await replaceCartItems(tx, ws, cart, p.products, at);
      await tx.query(`update carts set status = 'checkout', updated_at = $3 where workspace_id = $1 and cart_id = $2`, [ws, cart, at]);
      return;
    }
    case 'Order Completed':
    case 'Order Updated': {
      const p = commerceEvents[e.name].parse(e.properties) as OrderEventProps;
      await upsertOrderFromEvent(tx, ws, e.contactId, p, at, now);
      const cartId = p.cart_id ?? p.checkout_id ?? (await latestOpenCart(tx, ws, e.contactId));
      if (cartId && e.name === 'Order Completed') {
        await tx.query(
          `update carts set status = 'completed', order_id = $3, updated_at = $4 where workspace_id = $1 and cart_id = $2 and contact_id = $5`,
          [ws, cartId, p.order_id, at, e.contactId],
        );
      }
      return;
    }
    case 'Order Refunded':
    case 'Order Cancelled': {
      const p = commerceEvents[e.name].parse(e.properties) as RefundEventProps;
      const status = e.name === 'Order Refunded' ? 'refunded' : 'cancelled';
      await tx.query(`update orders set status = $3, updated_at = $4 where workspace_id = $1 and order_id = $2`, [ws, p.order_id, status, now]);
      return;
    }
    case 'Coupon Applied': {
      const p = commerceEvents[e.name].parse(e.properties) as CouponEventProps;
      const coupon = p.coupon_name ?? p.coupon_id ?? null;
      if (p.order_id) await tx.query(`update orders set coupon = $3 where workspace_id = $1 and order_id = $2`, [ws, p.order_id, coupon]);
      else {
        const cart = await openCart(tx, ws, e.contactId, p.cart_id, at);
        await tx.query(`update carts set coupon = $3, updated_at = $4 where workspace_id = $1 and cart_id = $2`, [ws, cart, coupon, at]);
      }
      return;
    }
    default:
      assertNever(e.name);
  }
}

/** The cart an event is about: its cart_id, else the contact's current open cart, else a new one. */
async function openCart(tx: Queryable, ws: string, contactId: number, cartId: string | undefined, at: Date): Promise<string> {
  const id = cartId ?? (await latestOpenCart(tx, ws, contactId)) ?? `c${contactId}-${at.getTime()}`;
  await tx.query(
    `insert into carts (workspace_id, cart_id, contact_id, status, created_at, updated_at) values ($1, $2, $3, 'open', $4, $4)
     on conflict (workspace_id, cart_id) do update set updated_at = greatest(carts.updated_at, excluded.updated_at),
       status = case when carts.status = 'completed' then 'completed' else 'open' end`,
    [ws, id, contactId, at],
  );
  return id;
}

async function latestOpenCart(tx: Queryable, ws: string, contactId: number): Promise<string | undefined> {
  const { rows } = await tx.query<{ cart_id: string }>(
    `select cart_id from carts where workspace_id = $1 and contact_id = $2 and status <> 'completed' order by updated_at desc limit 1`,
    [ws, contactId],
  );
  return rows[0]?.cart_id;
}

async function replaceCartItems(tx: Queryable, ws: string, cart: string, products: CommerceProduct[], at: Date): Promise<void> {
  await tx.query(`delete from cart_items where workspace_id = $1 and cart_id = $2`, [ws, cart]);
  const items = mergeLines(products);
  await tx.query(
    `insert into cart_items (workspace_id, cart_id, sku, quantity, unit_price, added_at)
     select $1, $2, s, q, p, $6 from unnest($3::text[], $4::int[], $5::numeric[]) as t(s, q, p)`,
    [ws, cart, items.map((i) => i.sku), items.map((i) => i.quantity), items.map((i) => i.price), at],
  );
}

async function upsertOrderFromEvent(tx: Queryable, ws: string, contactId: number, p: OrderEventProps, at: Date, now: Date): Promise<void> {
  const items = mergeLines(p.products ?? []);
  const itemsTotal = items.reduce((sum, i) => sum + (i.price ?? 0) * i.quantity, 0);
  const total = p.total ?? p.revenue ?? Math.max(0, itemsTotal - (p.discount ?? 0));
  await tx.query(
    `insert into orders (workspace_id, order_id, contact_id, status, total, currency, coupon, discount, ordered_at, created_at, updated_at)
     values ($1, $2, $3, 'completed', $4, $5, $6, $7, $8, $9, $9)
     on conflict (workspace_id, order_id) do update set total = excluded.total, currency = coalesce(excluded.currency, orders.currency),
       coupon = coalesce(excluded.coupon, orders.coupon), discount = coalesce(excluded.discount, orders.discount), updated_at = excluded.updated_at`,
    [ws, p.order_id, contactId, total, p.currency?.toUpperCase() ?? null, p.coupon ?? null, p.discount ?? null, at, now],
  );
  if (items.length === 0) return;
  await tx.query(`delete from order_items where workspace_id = $1 and order_id = $2`, [ws, p.order_id]);
  await tx.query(
    `insert into order_items (workspace_id, order_id, sku, quantity, unit_price)
     select $1, $2, s, q, coalesce(p, 0) from unnest($3::text[], $4::int[], $5::numeric[]) as t(s, q, p)`,
    [ws, p.order_id, items.map((i) => i.sku), items.map((i) => i.quantity), items.map((i) => i.price)],
  );
}

/** One line per sku: the same product listed twice is one line with the quantities added. */
function mergeLines(products: CommerceProduct[]): { sku: string; quantity: number; price: number | null }[] {
  const lines = new Map<string, { sku: string; quantity: number; price: number | null }>();
  for (const p of products) {
    const sku = skuOf(p);
    const line = lines.get(sku);
    if (line) line.quantity += p.quantity ?? 1;
    else lines.set(sku, { sku, quantity: p.quantity ?? 1, price: p.price ?? null });
  }
  return [...lines.values()];
}

async function ensureProducts(tx: Queryable, ws: string, products: CommerceProduct[], now: Date): Promise<void> {
  if (products.length === 0) return;
  await tx.query(
    `insert into products (workspace_id, sku, name, category, price, url, image_url, created_at, updated_at)
     select $1, s, coalesce(n, s), c, p, u, i, $8, $8 from unnest($2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::text[]) as t(s, n, c, p, u, i)
     on conflict (workspace_id, sku) do nothing`,
    [ws, products.map(skuOf), products.map((p) => p.name ?? null), products.map((p) => p.category ?? null), products.map((p) => p.price ?? null), products.map((p) => p.url ?? null), products.map((p) => p.image_url ?? null), now],
  );
}
