import type { Tend } from '../../src/tend.ts';

export const NOW = '2026-06-15T12:00:00Z';

/**
 * A small shop with known histories, at NOW (Monday 15 June 2026, 12:00 UTC):
 * - alice: pro plan, Warsaw, birthday today, 3 orders (50 + 70 + 30), bought FILTER-1 (Water),
 *   visited 5 days ago, opened an email 10 days ago, email consent granted.
 * - bob: no orders, last visit 165 days ago, disposable email (consent granted), born 29 Feb.
 * - carol: anonymous, added a product 30 minutes ago.
 * - dave: Los Angeles, born 16 June (still 15 June there), first and only order exactly 3 months ago.
 * - erin: Kiritimati (UTC+14), born 16 June (already 16 June there), warranty ends in 31 days (30 in her zone).
 */
export async function loadFixture(tend: Tend, workspaceId: string): Promise<void> {
  await tend.db.query(
    `insert into products (workspace_id, sku, name, category, price, created_at, updated_at) values
       ($1, 'FILTER-1', 'Water filter', 'Water', 20, now(), now()), ($1, 'KETTLE', 'Kettle', 'Kitchen', 40, now(), now())`,
    [workspaceId],
  );
  const m = (id: string, body: Record<string, unknown>) => ({ messageId: id, ...body });
  const order = (user: string, id: string, at: string, total: number, sku: string) =>
    m(`o-${id}`, { type: 'track', userId: user, event: 'Order Completed', timestamp: at, properties: { order_id: id, total, products: [{ sku, quantity: 1, price: total }] } });
  const r = await tend.ingest.ingest(workspaceId, [
    m('a1', { type: 'identify', userId: 'alice', timestamp: '2026-01-01T00:00:00Z', traits: { email: 'alice@example.com', plan: 'pro', age: 36, birthday: '1990-06-15', timezone: 'Europe/Warsaw', consent: { email: true } } }),
    order('alice', 'A1', '2026-01-10T10:00:00Z', 50, 'FILTER-1'),
    order('alice', 'A2', '2026-03-20T10:00:00Z', 70, 'KETTLE'),
    order('alice', 'A3', '2026-06-01T10:00:00Z', 30, 'FILTER-1'),
    m('a2', { type: 'page', userId: 'alice', name: 'Home', timestamp: '2026-06-10T09:00:00Z', properties: { path: '/' } }),
    m('a3', { type: 'track', userId: 'alice', event: 'Message Opened', timestamp: '2026-06-05T09:00:00Z', properties: { channel: 'email' } }),
    m('b1', { type: 'identify', userId: 'bob', timestamp: '2025-12-01T00:00:00Z', traits: { email: 'bob@mailinator.com', plan: 'basic', age: 51, birthday: '1984-02-29', consent: { email: true } } }),
    m('b2', { type: 'page', userId: 'bob', name: 'Home', timestamp: '2026-01-01T09:00:00Z', properties: { path: '/' } }),
    m('c1', { type: 'track', anonymousId: 'anon-carol', event: 'Product Added', timestamp: '2026-06-15T11:30:00Z', properties: { sku: 'KETTLE', cart_id: 'cc' } }),
    m('d1', { type: 'identify', userId: 'dave', timestamp: '2026-03-01T00:00:00Z', traits: { birthday: '2000-06-16', timezone: 'America/Los_Angeles', plan: 'Pro Max' } }),
    order('dave', 'D1', '2026-03-15T18:00:00Z', 99.5, 'KETTLE'),
    m('e1', { type: 'identify', userId: 'erin', timestamp: '2026-05-01T00:00:00Z', traits: { birthday: '2000-06-16', timezone: 'Pacific/Kiritimati', warranty_end: '2026-07-16', score: 'n/a' } }),
  ]);
  if (r.rejected.length > 0) throw new Error(JSON.stringify(r.rejected));
}
