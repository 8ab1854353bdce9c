import { z } from 'zod';

/**
 * Properties of Segment's e-commerce spec (v2) events that Tend turns into carts, orders and
 * catalog entries. Only the fields Tend relies on are checked; everything else is stored as sent.
 */
const Money = z.coerce.number().finite().nonnegative().max(1e12);
const Sku = z.union([z.string().trim().min(1).max(200), z.number().finite()]).transform(String);

export const CommerceProduct = z
  .object({
    product_id: Sku.optional(),
    sku: Sku.optional(),
    name: z.string().max(500).optional(),
    category: z.string().max(200).optional(),
    price: Money.optional(),
    quantity: z.coerce.number().int().positive().max(1_000_000).optional(),
    url: z.string().max(2000).optional(),
    image_url: z.string().max(2000).optional(),
  })
  .refine((p) => p.sku !== undefined || p.product_id !== undefined, { message: 'sku or product_id is required', path: ['sku'] });
export type CommerceProduct = z.infer<typeof CommerceProduct>;

const Products = z.array(CommerceProduct).max(1000);
const Id = z.union([z.string().trim().min(1).max(200), z.number().finite()]).transform(String);

const ProductEvent = z.object({ cart_id: Id.optional() }).and(CommerceProduct);
const CartEvent = z.object({ cart_id: Id.optional(), products: Products.optional() });
const OrderEvent = z.object({
  order_id: Id,
  cart_id: Id.optional(),
  checkout_id: Id.optional(),
  total: Money.optional(),
  revenue: Money.optional(),
  discount: Money.optional(),
  coupon: z.string().max(200).optional(),
  currency: z.string().trim().length(3).optional(),
  products: Products.optional(),
});
const CheckoutEvent = OrderEvent.partial({ order_id: true });
const RefundEvent = z.object({ order_id: Id });
const CouponEvent = z.object({ cart_id: Id.optional(), order_id: Id.optional(), coupon_id: z.string().max(200).optional(), coupon_name: z.string().max(200).optional() });

/** The e-commerce events Tend acts on, with the schema of their properties. */
export const commerceEvents = {
  'Product Viewed': ProductEvent,
  'Product Added': ProductEvent,
  'Product Removed': ProductEvent,
  'Cart Viewed': CartEvent,
  'Checkout Started': CheckoutEvent,
  'Order Completed': OrderEvent,
  'Order Updated': OrderEvent,
  'Order Refunded': RefundEvent,
  'Order Cancelled': RefundEvent,
  'Coupon Applied': CouponEvent,
} as const;
export type CommerceEventName = keyof typeof commerceEvents;

export function isCommerceEvent(name: string): name is CommerceEventName {
  return Object.hasOwn(commerceEvents, name);
}

export type ProductEventProps = z.infer<typeof ProductEvent>;
export type CartEventProps = z.infer<typeof CartEvent>;
export type OrderEventProps = z.infer<typeof OrderEvent>;
export type CheckoutEventProps = z.infer<typeof CheckoutEvent>;
export type RefundEventProps = z.infer<typeof RefundEvent>;
export type CouponEventProps = z.infer<typeof CouponEvent>;

export const skuOf = (p: { sku?: string; product_id?: string }): string => (p.sku ?? p.product_id)!;

/**
 * The properties of "Product Viewed", "Product Added" and "Product Removed" checked by hand, as
 * events/schema.ts quickParse does for messages: what this accepts, the event's schema accepts
 * with the same result; anything else (a price or quantity sent as text, a field of another type)
 * is left to the schema, which says what is wrong. These are most of a shop's events, and the
 * schema's intersection cost about as much as the rest of a message's checks.
 */
export function quickProductEvent(props: Record<string, unknown>): ProductEventProps | undefined {
  const out: Record<string, unknown> = {};
  for (const key of ['cart_id', 'product_id', 'sku'] as const) {
    if (!Object.hasOwn(props, key)) continue;
    const v = props[key];
    if (typeof v === 'string') {
      const id = v.trim();
      if (id.length < 1 || id.length > 200) return undefined;
      out[key] = id;
    } else if (typeof v === 'number' && Number.isFinite(v)) out[key] = String(v);
    else return undefined;
  }
  for (const [key, max] of [['name', 500], ['category', 200], ['url', 2000], ['image_url', 2000]] as const) {
    if (!Object.hasOwn(props, key)) continue;
    const v = props[key];
    if (typeof v !== 'string' || v.length > max) return undefined;
    out[key] = v;
  }
  if (Object.hasOwn(props, 'price')) {
    const v = props.price;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e12) return undefined;
    out.price = v;
  }
  if (Object.hasOwn(props, 'quantity')) {
    const v = props.quantity;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 1_000_000) return undefined;
    out.quantity = v;
  }
  if (out.sku === undefined && out.product_id === undefined) return undefined;
  return out as ProductEventProps;
}
