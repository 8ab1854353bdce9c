import { skuOf, type CommerceEventName, type CommerceProduct } from './commerce-schema.ts';

/** The parsed properties of any commerce event: the union of the fields Tend reads. */
export type CommerceProps = Partial<CommerceProduct> & {
  cart_id?: string; checkout_id?: string; order_id?: string; products?: CommerceProduct[]; total?: number; revenue?: number;
  discount?: number; coupon?: string; currency?: string; coupon_id?: string; coupon_name?: string;
};

/** A product as an event mentions it: the catalog adds the ones it lacks. */
export type ProductMention = { sku: string; name?: string; category?: string; price?: number; url?: string; image_url?: string };

/**
 * What ingestion's SQL (migrations/0015_ingest_batch_function.sql) reads of an e-commerce event,
 * decided here once so the SQL does not repeat Segment's defaults: the cart it names (a checkout
 * id stands for the cart on checkouts and orders), the line it adds or removes, the lines it
 * lists, the order's total, and every product it mentions. Absent fields are left out, not null.
 */
export type CommerceFields = {
  cart_id?: string;
  order_id?: string;
  sku?: string;
  quantity?: number;
  price?: number;
  lines?: { sku: string; quantity: number; price: number | null }[];
  total?: number;
  currency?: string;
  coupon?: string;
  discount?: number;
  coupon_name?: string;
  products?: ProductMention[];
};

/**
 * Carts, orders and the catalog follow from these fields in the ingesting transaction, only for
 * events stored for the first time, so a redelivered event never adds an item twice. Products the
 * catalog does not know yet are added from the events' own fields; the catalog import remains the
 * source of truth (existing products are not overwritten).
 */
export function commerceFields(name: CommerceEventName, props: CommerceProps): CommerceFields {
  const f: CommerceFields = {};
  const cartId = name === 'Checkout Started' || name === 'Order Completed' ? (props.cart_id ?? props.checkout_id) : props.cart_id;
  if (cartId !== undefined) f.cart_id = cartId;
  if (props.order_id !== undefined) f.order_id = props.order_id;
  if (props.sku !== undefined || props.product_id !== undefined) {
    f.sku = skuOf(props as CommerceProduct);
    f.quantity = props.quantity ?? 1;
    if (props.price !== undefined) f.price = props.price;
  }
  if (props.products !== undefined) f.lines = mergeLines(props.products);
  if (name === 'Order Completed' || name === 'Order Updated') {
    const itemsTotal = (f.lines ?? []).reduce((sum, i) => sum + (i.price ?? 0) * i.quantity, 0);
    f.total = props.total ?? props.revenue ?? Math.max(0, itemsTotal - (props.discount ?? 0));
    if (props.currency !== undefined) f.currency = props.currency.toUpperCase();
    if (props.coupon !== undefined) f.coupon = props.coupon;
    if (props.discount !== undefined) f.discount = props.discount;
  }
  if (name === 'Coupon Applied' && (props.coupon_name ?? props.coupon_id) !== undefined) f.coupon_name = props.coupon_name ?? props.coupon_id;
  const mentioned = [...(f.sku !== undefined ? [props as CommerceProduct] : []), ...(props.products ?? [])];
  if (mentioned.length > 0) f.products = mentioned.map(mention);
  return f;
}

function mention(p: CommerceProduct): ProductMention {
  const m: ProductMention = { sku: skuOf(p) };
  if (p.name !== undefined) m.name = p.name;
  if (p.category !== undefined) m.category = p.category;
  if (p.price !== undefined) m.price = p.price;
  if (p.url !== undefined) m.url = p.url;
  if (p.image_url !== undefined) m.image_url = p.image_url;
  return m;
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
