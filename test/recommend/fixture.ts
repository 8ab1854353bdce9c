// Hand-made shops for the replenishment and recommendation tests: products, then orders sent
// through ingestion as Segment "Order Completed" events, exactly as a shop's tracking would.
import type { Tend } from '../../src/tend.ts';
import { upsertProducts, type ProductInput } from '../../src/catalog/index.ts';
import { DAY_MS } from '../../src/core/clock.ts';

export const START = Date.parse('2026-01-01T10:00:00Z');

/** A moment `days` after START, as an ISO string. */
export const at = (days: number) => new Date(START + days * DAY_MS).toISOString();

export type FixtureOrder = { user: string; day: number; items: [sku: string, quantity: number][]; refunded?: boolean };

let orderNumber = 0;

/** Creates the products and sends the orders (and refunds) through ingestion. */
export async function loadShop(tend: Tend, workspaceId: string, products: ProductInput[], orders: FixtureOrder[]): Promise<void> {
  await tend.db.transaction((tx) => upsertProducts(tx, workspaceId, products, new Date(START - DAY_MS)));
  const messages: unknown[] = [];
  for (const o of orders) {
    const id = `ord-${++orderNumber}`;
    const lines = o.items.map(([sku, quantity]) => ({ sku, quantity, price: 10 }));
    const total = lines.reduce((sum, l) => sum + l.quantity * l.price, 0);
    messages.push({ type: 'track', messageId: `m-${id}`, userId: o.user, event: 'Order Completed', timestamp: at(o.day), properties: { order_id: id, total, products: lines } });
    if (o.refunded) messages.push({ type: 'track', messageId: `r-${id}`, userId: o.user, event: 'Order Refunded', timestamp: at(o.day + 3), properties: { order_id: id } });
  }
  for (let i = 0; i < messages.length; i += 500) {
    const r = await tend.ingest.ingest(workspaceId, messages.slice(i, i + 500));
    if (r.rejected.length > 0) throw new Error(JSON.stringify(r.rejected));
  }
}

/** The contact id of a user id (throws when there is none). */
export async function contactOf(tend: Tend, workspaceId: string, userId: string): Promise<number> {
  const id = await tend.contacts.findByUserId(workspaceId, userId);
  if (id === null) throw new Error(`no contact ${userId}`);
  return id;
}

/** Repeats a purchase every `every` days from `from`, `times` times. */
export function every(user: string, sku: string, from: number, every: number, times: number, quantity = 1): FixtureOrder[] {
  return Array.from({ length: times }, (_, i) => ({ user, day: from + i * every * quantity, items: [[sku, quantity]] }));
}
