// Counts over a stream of demo messages: for tests, and for printing what a generated demo shop
// contains.
import type { DemoMessage } from './types.ts';

export type DemoSummary = {
  messages: number;
  identifies: number;
  tracks: number;
  pages: number;
  /** Distinct user ids seen. */
  customers: number;
  /** Identify calls carrying both an anonymous id and a user id: anonymous visitors becoming known. */
  merges: number;
  events: Record<string, number>;
  orders: number;
  refunds: number;
  revenue: number;
  /** Distinct carts (cart_id on "Product Added"), and those that never became an order. */
  carts: number;
  abandonedCarts: number;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
};

/**
 * Tallies a stream of demo messages. Keeps one entry per customer and per open cart, so it is
 * meant for test-sized runs and summaries, not for a ten-million-customer stream.
 */
export function summarizeDemo(messages: Iterable<DemoMessage>): DemoSummary {
  const summary: DemoSummary = {
    messages: 0, identifies: 0, tracks: 0, pages: 0, customers: 0, merges: 0, events: {},
    orders: 0, refunds: 0, revenue: 0, carts: 0, abandonedCarts: 0, firstTimestamp: null, lastTimestamp: null,
  };
  const users = new Set<string>();
  const openCarts = new Set<string>();
  const closedCarts = new Set<string>();
  let revenueCents = 0;
  for (const m of messages) {
    summary.messages++;
    summary.firstTimestamp ??= m.timestamp;
    summary.lastTimestamp = m.timestamp;
    if (m.userId !== undefined) users.add(m.userId);
    if (m.type === 'identify') {
      summary.identifies++;
      if (m.userId !== undefined && m.anonymousId !== undefined) summary.merges++;
    } else if (m.type === 'page') {
      summary.pages++;
    } else {
      summary.tracks++;
      summary.events[m.event] = (summary.events[m.event] ?? 0) + 1;
      const cartId = typeof m.properties.cart_id === 'string' ? m.properties.cart_id : null;
      if (m.event === 'Product Added' && cartId !== null && !closedCarts.has(cartId)) openCarts.add(cartId);
      if (m.event === 'Order Completed') {
        summary.orders++;
        revenueCents += Math.round(Number(m.properties.revenue ?? 0) * 100);
        if (cartId !== null && openCarts.delete(cartId)) closedCarts.add(cartId);
      }
      if (m.event === 'Order Refunded') summary.refunds++;
    }
  }
  summary.customers = users.size;
  summary.carts = openCarts.size + closedCarts.size;
  summary.abandonedCarts = openCarts.size;
  summary.revenue = revenueCents / 100;
  return summary;
}
