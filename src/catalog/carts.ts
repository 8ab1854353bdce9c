import type { Queryable } from '../db/index.ts';
import { skuOf } from './commerce-schema.ts';
import { mergeLines, type ParsedCommerceEvent } from './commerce.ts';

type Item = { quantity: number; price: number | null; addedAt: Date };
type Cart = { id: string; contactId: number; status: string; coupon: string | null; orderId: string | null; createdAt: Date; updatedAt: Date; items: Map<string, Item>; dirty: boolean };

const cartNames = new Set(['Product Added', 'Product Removed', 'Cart Viewed', 'Checkout Started', 'Order Completed', 'Coupon Applied']);

/**
 * Applies a batch's cart events: reads the carts they touch (and each contact's current open cart,
 * for events without a cart_id), replays the events in order in memory, and writes back the carts
 * that changed. A cart that has become an order stays completed.
 */
export async function applyCartEvents(tx: Queryable, ws: string, events: readonly ParsedCommerceEvent[]): Promise<void> {
  const relevant = events.filter((e) => cartNames.has(e.name) && !(e.name === 'Coupon Applied' && e.props.order_id));
  if (relevant.length === 0) return;
  const carts = new Map<string, Cart>();
  const openCart = new Map<number, string>();

  const named = [...new Set(relevant.flatMap((e) => [e.props.cart_id, e.props.checkout_id].filter((x): x is string => x !== undefined)))];
  // A contact's open cart is needed only for events that do not name their cart.
  const contacts = [...new Set(relevant.filter((e) => !e.props.cart_id && !e.props.checkout_id).map((e) => e.contactId))];
  // Carts by id and each contact's latest unfinished cart, by index probes (lateral, limit 1).
  const { rows } = await tx.query<{ cart_id: string; contact_id: number; status: string; coupon: string | null; order_id: string | null; created_at: Date; updated_at: Date; open: boolean }>(
    `select k.*, false as open from unnest($2::text[]) as t(id)
       cross join lateral (select cart_id, contact_id, status, coupon, order_id, created_at, updated_at from carts where workspace_id = $1 and cart_id = t.id limit 1) k
     union all
     select k.*, true from unnest($3::bigint[]) as t(id)
       cross join lateral (select cart_id, contact_id, status, coupon, order_id, created_at, updated_at from carts
                            where workspace_id = $1 and contact_id = t.id and status <> 'completed' order by updated_at desc limit 1) k`,
    [ws, named, contacts],
  );
  for (const r of rows) {
    carts.set(r.cart_id, { id: r.cart_id, contactId: r.contact_id, status: r.status, coupon: r.coupon, orderId: r.order_id, createdAt: r.created_at, updatedAt: r.updated_at, items: new Map(), dirty: false });
    if (r.open) openCart.set(r.contact_id, r.cart_id);
  }
  if (carts.size > 0) {
    const items = await tx.query<{ cart_id: string; sku: string; quantity: number; unit_price: number | null; added_at: Date }>(
      `select cart_id, sku, quantity, unit_price, added_at from cart_items where workspace_id = $1 and cart_id = any($2::text[])`,
      [ws, [...carts.keys()]],
    );
    for (const i of items.rows) carts.get(i.cart_id)!.items.set(i.sku, { quantity: i.quantity, price: i.unit_price, addedAt: i.added_at });
  }

  /** The cart an event is about: its cart_id, else the contact's open cart, else a new one. */
  const cartFor = (e: ParsedCommerceEvent, id: string | undefined): Cart => {
    const cartId = id ?? openCart.get(e.contactId) ?? `c${e.contactId}-${e.occurredAt.getTime()}`;
    let cart = carts.get(cartId);
    if (!cart) {
      cart = { id: cartId, contactId: e.contactId, status: 'open', coupon: null, orderId: null, createdAt: e.occurredAt, updatedAt: e.occurredAt, items: new Map(), dirty: true };
      carts.set(cartId, cart);
    }
    if (cart.status !== 'completed') {
      cart.status = 'open';
      openCart.set(cart.contactId, cart.id);
    }
    if (e.occurredAt > cart.updatedAt) cart.updatedAt = e.occurredAt;
    cart.dirty = true;
    return cart;
  };
  const replaceItems = (cart: Cart, e: ParsedCommerceEvent) => {
    if (!e.props.products) return;
    cart.items = new Map(mergeLines(e.props.products).map((l) => [l.sku, { quantity: l.quantity, price: l.price, addedAt: e.occurredAt }]));
  };

  for (const e of relevant) {
    const p = e.props;
    switch (e.name) {
      case 'Product Added': {
        const cart = cartFor(e, p.cart_id);
        const sku = skuOf(p as { sku?: string; product_id?: string });
        const item = cart.items.get(sku);
        if (item) {
          item.quantity += p.quantity ?? 1;
          if (p.price !== undefined) item.price = p.price;
        } else cart.items.set(sku, { quantity: p.quantity ?? 1, price: p.price ?? null, addedAt: e.occurredAt });
        break;
      }
      case 'Product Removed': {
        const cart = cartFor(e, p.cart_id);
        const sku = skuOf(p as { sku?: string; product_id?: string });
        const item = cart.items.get(sku);
        if (item && item.quantity <= (p.quantity ?? 1)) cart.items.delete(sku);
        else if (item) item.quantity -= p.quantity ?? 1;
        break;
      }
      case 'Cart Viewed':
        replaceItems(cartFor(e, p.cart_id), e);
        break;
      case 'Checkout Started': {
        const cart = cartFor(e, p.cart_id ?? p.checkout_id);
        replaceItems(cart, e);
        if (cart.status !== 'completed') cart.status = 'checkout';
        break;
      }
      case 'Coupon Applied':
        cartFor(e, p.cart_id).coupon = p.coupon_name ?? p.coupon_id ?? null;
        break;
      case 'Order Completed': {
        const cart = carts.get(p.cart_id ?? p.checkout_id ?? openCart.get(e.contactId) ?? '');
        if (cart && cart.contactId === e.contactId) {
          cart.status = 'completed';
          cart.orderId = p.order_id ?? null;
          if (e.occurredAt > cart.updatedAt) cart.updatedAt = e.occurredAt;
          cart.dirty = true;
          if (openCart.get(e.contactId) === cart.id) openCart.delete(e.contactId);
        }
        break;
      }
    }
  }

  const dirty = [...carts.values()].filter((c) => c.dirty);
  if (dirty.length === 0) return;
  const lines = dirty.flatMap((c) => [...c.items].map(([sku, i]) => ({ cart: c.id, sku, ...i })));
  // One statement writes the carts and their items: upsert the lines each cart has now and delete
  // the ones it no longer has (disjoint rows, so the two can share a statement).
  await tx.query(
    `with carts_written as (
       insert into carts (workspace_id, cart_id, contact_id, status, coupon, order_id, created_at, updated_at)
       select $1, id, c, s, cp, o, ca, ua from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[]) as t(id, c, s, cp, o, ca, ua)
       on conflict (workspace_id, cart_id) do update set status = excluded.status, coupon = excluded.coupon, order_id = excluded.order_id, updated_at = excluded.updated_at
       returning 1),
     lines as (select * from unnest($9::text[], $10::text[], $11::int[], $12::numeric[], $13::timestamptz[]) as t(c, s, q, p, a)),
     removed as (
       delete from cart_items i where i.workspace_id = $1 and i.cart_id = any($2::text[])
          and not exists (select 1 from lines l where l.c = i.cart_id and l.s = i.sku)
       returning 1)
     insert into cart_items (workspace_id, cart_id, sku, quantity, unit_price, added_at)
     select $1, c, s, q, p, a from lines
     on conflict (workspace_id, cart_id, sku) do update set quantity = excluded.quantity, unit_price = excluded.unit_price`,
    [
      ws, dirty.map((c) => c.id), dirty.map((c) => c.contactId), dirty.map((c) => c.status), dirty.map((c) => c.coupon), dirty.map((c) => c.orderId),
      dirty.map((c) => c.createdAt), dirty.map((c) => c.updatedAt),
      lines.map((l) => l.cart), lines.map((l) => l.sku), lines.map((l) => l.quantity), lines.map((l) => l.price), lines.map((l) => l.addedAt),
    ],
  );
}
