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
