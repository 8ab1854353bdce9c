import type { Queryable } from '../db/index.ts';
import { commerceEvents, skuOf, type CommerceEventName, type CommerceProduct } from './commerce-schema.ts';
import { applyCartEvents } from './carts.ts';

/** An e-commerce event that was stored for the first time, with its properties already validated. */
export type CommerceEvent = { name: CommerceEventName; contactId: number; messageId: string; occurredAt: Date; properties: unknown };

/** The parsed properties of any commerce event: the union of the fields Tend reads. */
export type CommerceProps = Partial<CommerceProduct> & {
  cart_id?: string; checkout_id?: string; order_id?: string; products?: CommerceProduct[]; total?: number; revenue?: number;
  discount?: number; coupon?: string; currency?: string; coupon_id?: string; coupon_name?: string;
};
export type ParsedCommerceEvent = CommerceEvent & { props: CommerceProps };

/**
 * Keeps carts, orders and the catalog current from Segment e-commerce events. Runs in the
 * ingesting transaction, only for events stored for the first time, so a redelivered event never
 * adds an item twice. Work is done per batch, not per event: a batch's carts are read once,
 * changed in memory in event order, and written back with a few set-based statements (per-event
 * statements made carts the bottleneck of ingestion, about 1,000 events/s).
 * Products the catalog does not know yet are added from the events' own product fields; the
 * catalog import remains the source of truth (existing products are not overwritten).
 */
export async function applyCommerceEvents(
  tx: Queryable,
  workspaceId: string,
  events: readonly CommerceEvent[],
  now: Date,
  knownSkus: ReadonlySet<string> = new Set(),
): Promise<{ skus: string[] }> {
  if (events.length === 0) return { skus: [] };
  const parsed: ParsedCommerceEvent[] = events.map((e) => ({ ...e, props: commerceEvents[e.name].parse(e.properties) as CommerceProps }));
  const skus = await ensureProducts(tx, workspaceId, parsed, now, knownSkus);
  await applyCartEvents(tx, workspaceId, parsed);
  await applyOrderEvents(tx, workspaceId, parsed, now);
  return { skus };
}

async function applyOrderEvents(tx: Queryable, ws: string, events: readonly ParsedCommerceEvent[], now: Date): Promise<void> {
  // The last statement about an order in the batch wins.
  const orders = new Map<string, ParsedCommerceEvent>();
  for (const e of events) if ((e.name === 'Order Completed' || e.name === 'Order Updated') && e.props.order_id) orders.set(e.props.order_id, e);
  if (orders.size > 0) {
    const list = [...orders.values()].map((e) => {
      const items = mergeLines(e.props.products ?? []);
      const itemsTotal = items.reduce((sum, i) => sum + (i.price ?? 0) * i.quantity, 0);
      const total = e.props.total ?? e.props.revenue ?? Math.max(0, itemsTotal - (e.props.discount ?? 0));
      return { e, items, total };
    });
    await tx.query(
      `insert into orders (workspace_id, order_id, contact_id, status, total, currency, coupon, discount, ordered_at, created_at, updated_at)
       select $1, o, c, 'completed', t, cur, cp, d, at, $9, $9
         from unnest($2::text[], $3::bigint[], $4::numeric[], $5::text[], $6::text[], $7::numeric[], $8::timestamptz[]) as v(o, c, t, cur, cp, d, at)
       on conflict (workspace_id, order_id) do update set total = excluded.total, currency = coalesce(excluded.currency, orders.currency),
         coupon = coalesce(excluded.coupon, orders.coupon), discount = coalesce(excluded.discount, orders.discount), updated_at = excluded.updated_at`,
      [
        ws,
        list.map((o) => o.e.props.order_id),
        list.map((o) => o.e.contactId),
        list.map((o) => o.total),
        list.map((o) => o.e.props.currency?.toUpperCase() ?? null),
        list.map((o) => o.e.props.coupon ?? null),
        list.map((o) => o.e.props.discount ?? null),
        list.map((o) => o.e.occurredAt),
        now,
      ],
    );
    const withItems = list.filter((o) => o.items.length > 0);
    if (withItems.length > 0) {
      await tx.query(`delete from order_items where workspace_id = $1 and order_id = any($2::text[])`, [ws, withItems.map((o) => o.e.props.order_id)]);
      const lines = withItems.flatMap((o) => o.items.map((i) => ({ order: o.e.props.order_id!, ...i })));
      await tx.query(
        `insert into order_items (workspace_id, order_id, sku, quantity, unit_price)
         select $1, o, s, q, coalesce(p, 0) from unnest($2::text[], $3::text[], $4::int[], $5::numeric[]) as t(o, s, q, p)`,
        [ws, lines.map((l) => l.order), lines.map((l) => l.sku), lines.map((l) => l.quantity), lines.map((l) => l.price)],
      );
    }
  }
  const statuses = new Map<string, string>();
  for (const e of events) if (e.name === 'Order Refunded' || e.name === 'Order Cancelled') statuses.set(e.props.order_id!, e.name === 'Order Refunded' ? 'refunded' : 'cancelled');
  if (statuses.size > 0) {
    await tx.query(
      `update orders o set status = v.s, updated_at = $4 from unnest($2::text[], $3::text[]) as v(id, s) where o.workspace_id = $1 and o.order_id = v.id`,
      [ws, [...statuses.keys()], [...statuses.values()], now],
    );
  }
  const coupons = events.filter((e) => e.name === 'Coupon Applied' && e.props.order_id);
  if (coupons.length > 0) {
    await tx.query(
      `update orders o set coupon = v.c from unnest($2::text[], $3::text[]) as v(id, c) where o.workspace_id = $1 and o.order_id = v.id`,
      [ws, coupons.map((e) => e.props.order_id), coupons.map((e) => e.props.coupon_name ?? e.props.coupon_id ?? null)],
    );
  }
}

/** One line per sku: the same product listed twice is one line with the quantities added. */
export function mergeLines(products: readonly CommerceProduct[]): { sku: string; quantity: number; price: number | null }[] {
  const lines = new Map<string, { sku: string; quantity: number; price: number | null }>();
  for (const p of products) {
    const sku = skuOf(p);
    const line = lines.get(sku);
    if (line) line.quantity += p.quantity ?? 1;
    else lines.set(sku, { sku, quantity: p.quantity ?? 1, price: p.price ?? null });
  }
  return [...lines.values()];
}

/** Adds the products the catalog lacks (skipping `known` ones); returns every sku the batch names. */
async function ensureProducts(tx: Queryable, ws: string, events: readonly ParsedCommerceEvent[], now: Date, known: ReadonlySet<string>): Promise<string[]> {
  // Every product the batch mentions, each field taken from whichever event states it.
  const products = new Map<string, CommerceProduct>();
  const mention = (p: CommerceProduct) => {
    const known = products.get(skuOf(p));
    products.set(skuOf(p), known ? { ...known, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } : p);
  };
  for (const { props } of events) {
    if (props.sku !== undefined || props.product_id !== undefined) mention(props as CommerceProduct);
    for (const p of props.products ?? []) mention(p);
  }
  const skus = [...products.keys()];
  for (const sku of skus) if (known.has(sku)) products.delete(sku);
  if (products.size === 0) return skus;
  // Sorted, so two batches inserting the same new products lock their keys in the same order.
  const list = [...products.values()].sort((a, b) => (skuOf(a) < skuOf(b) ? -1 : 1));
  await tx.query(
    `insert into products (workspace_id, sku, name, category, price, url, image_url, created_at, updated_at)
     select $1, s, coalesce(n, s), c, p, u, i, $8, $8 from unnest($2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::text[]) as t(s, n, c, p, u, i)
     on conflict (workspace_id, sku) do nothing`,
    [ws, list.map(skuOf), list.map((p) => p.name ?? null), list.map((p) => p.category ?? null), list.map((p) => p.price ?? null), list.map((p) => p.url ?? null), list.map((p) => p.image_url ?? null), now],
  );
  return skus;
}
