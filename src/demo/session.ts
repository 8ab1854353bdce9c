// One visit to the demo shop, written as the Segment messages a browser would send: pages,
// product views, carts, checkouts and orders (Segment e-commerce spec v2 names and properties).
import { DEMO_SHOP_URL } from './catalog.ts';
import type { Customer } from './customer.ts';
import type { DemoMessage, DemoProduct } from './types.ts';
import type { World } from './world.ts';

export type LineItem = { product: number; quantity: number };

const SEARCHES = ['coffee', 'decaf', 'green tea', 'filter', 'cartridge', 'serum', 'sunscreen', 'dog food', 'cat litter', 'razor', 'blender', 'air fryer', 'gift', 'sale'];
const COUPONS: Array<{ id: string; name: string; percent: number; off: number; minimum: number }> = [
  { id: 'WELCOME10', name: '10% off your first order', percent: 10, off: 0, minimum: 0 },
  { id: 'SPRING15', name: 'Spring sale 15%', percent: 15, off: 0, minimum: 0 },
  { id: 'SAVE5', name: '$5 off orders over $30', percent: 0, off: 500, minimum: 3000 },
  { id: 'VIP20', name: 'VIP 20%', percent: 20, off: 0, minimum: 5000 },
];

/**
 * Appends one session's messages to the customer's queue, starting at `start`. Messages that
 * would fall after the end of the shop's history are dropped, so a session can be cut short.
 */
export class SessionWriter {
  private readonly customer: Customer;
  private readonly world: World;
  private readonly campaign: Record<string, string> | null;
  /** Time of the next message, ms. */
  now: number;

  constructor(customer: Customer, world: World, start: number, campaign: Record<string, string> | null) {
    this.customer = customer;
    this.world = world;
    this.now = start;
    this.campaign = campaign;
  }

  /** Moves the clock on by a human pause: a few seconds to a couple of minutes. */
  pause(meanSeconds = 30): void {
    this.now += Math.round((2 + this.customer.rng.exponential(1 / meanSeconds)) * 1000);
  }

  page(name: string, path: string, title: string, extra: Record<string, unknown> = {}): void {
    const properties = { path, url: `${DEMO_SHOP_URL}${path}`, title: `${title} | Demo Shop`, ...extra };
    this.push({ type: 'page', messageId: '', ...this.ids(), timestamp: '', name, properties, context: this.context() });
  }

  track(event: string, properties: Record<string, unknown>): void {
    this.push({ type: 'track', messageId: '', ...this.ids(), timestamp: '', event, properties, context: this.context() });
  }

  identify(traits: Record<string, unknown>, withAnonymousId: boolean): void {
    const c = this.customer;
    const ids = withAnonymousId && c.anonymousId !== null ? { userId: c.userId, anonymousId: c.anonymousId } : this.ids();
    this.push({ type: 'identify', messageId: '', ...ids, timestamp: '', traits, context: this.context() });
  }

  /** A product page and its "Product Viewed" event. */
  viewProduct(index: number): void {
    const p = this.product(index);
    this.page('Product', `/products/${slug(p)}`, p.name, { sku: p.sku, category: p.category });
    this.pause(8);
    this.track('Product Viewed', { ...productFields(p), currency: 'USD', url: p.url, image_url: p.imageUrl });
    this.pause(40);
  }

  search(): void {
    const query = this.customer.rng.pick(SEARCHES);
    this.page('Search', `/search?q=${encodeURIComponent(query)}`, `Search: ${query}`);
    this.track('Products Searched', { query });
    this.pause();
  }

  /**
   * Cart to order. `stopAfter` abandons the cart after that step ('added', 'viewed' or
   * 'checkout'); null completes the order. Returns the order's properties when one was placed.
   */
  checkout(items: LineItem[], stopAfter: 'added' | 'viewed' | 'checkout' | null, key: string, firstOrder: boolean): Record<string, unknown> | null {
    const rng = this.customer.rng;
    const cartId = `cart_${key}`;
    const orderId = `ord_${key}`;
    for (const item of items) {
      this.track('Product Added', { cart_id: cartId, ...productFields(this.product(item.product)), quantity: item.quantity, url: this.product(item.product).url, image_url: this.product(item.product).imageUrl });
      this.pause(20);
    }
    if (stopAfter === 'added') return null;
    const products = items.map((item) => ({ ...productFields(this.product(item.product)), quantity: item.quantity }));
    this.page('Cart', '/cart', 'Your cart');
    this.track('Cart Viewed', { cart_id: cartId, products });
    this.pause(25);
    if (stopAfter === 'viewed') return null;
    // Whole cents, so totals add up exactly.
    const subtotalCents = items.reduce((sum, item) => sum + Math.round(this.product(item.product).price * 100) * item.quantity, 0);
    this.page('Checkout', '/checkout', 'Checkout');
    this.track('Checkout Started', { order_id: orderId, cart_id: cartId, affiliation: 'Demo Shop', value: cents(subtotalCents), revenue: cents(subtotalCents), currency: 'USD', products: copy(products) });
    this.pause(45);
    let discountCents = 0;
    let coupon: string | null = null;
    if (stopAfter === null && rng.chance(firstOrder ? 0.3 : 0.1)) {
      const offer = firstOrder && rng.chance(0.7) ? COUPONS[0] : rng.pick(COUPONS.slice(1));
      if (offer !== undefined && subtotalCents >= offer.minimum) {
        discountCents = offer.off > 0 ? offer.off : Math.round((subtotalCents * offer.percent) / 100);
        coupon = offer.id;
        this.track('Coupon Entered', { order_id: orderId, cart_id: cartId, coupon_id: offer.id });
        this.pause(5);
        this.track('Coupon Applied', { order_id: orderId, cart_id: cartId, coupon_id: offer.id, coupon_name: offer.name, discount: cents(discountCents) });
        this.pause(15);
      }
    }
    if (stopAfter === 'checkout') return null;
    const total = cents(subtotalCents - discountCents);
    const order: Record<string, unknown> = {
      checkout_id: `chk_${key}`,
      order_id: orderId,
      cart_id: cartId,
      affiliation: 'Demo Shop',
      // Prices include tax and shipping is free, so total = revenue = items − discount.
      subtotal: cents(subtotalCents),
      total,
      revenue: total,
      discount: cents(discountCents),
      ...(coupon === null ? {} : { coupon }),
      currency: 'USD',
      products: copy(products),
    };
    this.track('Order Completed', order);
    this.pause(5);
    this.page('Order Confirmation', `/checkout/thank-you/${orderId}`, 'Thank you for your order');
    return order;
  }

  private product(index: number): DemoProduct {
    const p = this.world.catalog[index];
    if (p === undefined) throw new Error(`demo catalog has no product ${index}`);
    return p;
  }

  private ids(): { userId: string } | { anonymousId: string } {
    const c = this.customer;
    return c.identified || c.anonymousId === null ? { userId: c.userId } : { anonymousId: c.anonymousId };
  }

  private context(): Record<string, unknown> {
    const c = this.customer;
    const context: Record<string, unknown> = {
      ip: c.ip,
      userAgent: c.userAgent,
      locale: c.locale,
      timezone: c.timezone,
      library: { name: 'analytics.js', version: '5.2.0' },
    };
    if (this.campaign !== null) context.campaign = { ...this.campaign };
    return context;
  }

  private push(message: DemoMessage): void {
    if (this.now > this.world.endMs) return;
    const c = this.customer;
    c.queue.push(message);
    c.queueAt.push(this.now);
  }
}

/** Segment's common product properties. The SKU doubles as the product id. */
export function productFields(p: DemoProduct): Record<string, unknown> {
  return { product_id: p.sku, sku: p.sku, name: p.name, price: p.price, category: p.category };
}

/** The URL path segment of a product. */
export function slug(p: DemoProduct): string {
  return p.url.slice(p.url.lastIndexOf('/') + 1);
}

/** A cent amount as dollars, rounded to two decimals. */
export function cents(amount: number): number {
  return Math.round(amount) / 100;
}

// Each message gets its own product objects, so a consumer that edits one message cannot change another.
function copy(products: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return products.map((p) => ({ ...p }));
}
