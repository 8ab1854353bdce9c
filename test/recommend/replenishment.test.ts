import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { VirtualClock, DAY_MS } from '../../src/core/clock.ts';
import { chooseIntervals, createReplenishmentService, type ProductInterval, type ReplenishmentService } from '../../src/models/replenishment/index.ts';
import { at, contactOf, every, loadShop, START, type FixtureOrder } from './fixture.ts';

const products = [
  { sku: 'FILTER', name: 'Water filter', category: 'Water', lifetimeDays: 30 },
  { sku: 'CARAFE', name: 'Glass carafe', category: 'Water' },
  { sku: 'PODS', name: 'Coffee pods', category: 'Coffee' },
  { sku: 'BEANS', name: 'Coffee beans', category: 'Coffee' },
  { sku: 'SOAP', name: 'Olive soap', category: 'Bath', lifetimeDays: 45 },
  { sku: 'BLADE', name: 'Razor blade', category: 'Bath', lifetimeDays: 10 },
];

// Water filters every 20 days (not the 30 the shop says); q buys two at a time; a5 lapses for 200
// days once; m orders a second filter two hours after the first; r's second order was refunded.
const orders: FixtureOrder[] = [
  ...['a1', 'a2', 'a3', 'a4'].flatMap((u) => every(u, 'FILTER', 0, 20, 4)),
  ...every('a5', 'FILTER', 0, 20, 3),
  { user: 'a5', day: 240, items: [['FILTER', 1]] },
  { user: 'q', day: 0, items: [['FILTER', 2]] },
  { user: 'q', day: 40, items: [['FILTER', 1]] },
  { user: 'q', day: 60, items: [['FILTER', 1]] },
  { user: 'm', day: 0, items: [['FILTER', 1]] },
  { user: 'm', day: 2 / 24, items: [['FILTER', 1]] },
  { user: 'r', day: 0, items: [['FILTER', 1]] },
  { user: 'r', day: 10, items: [['FILTER', 1]], refunded: true },
  // A carafe lasts for ever: one customer bought a second one 40 days later.
  { user: 'a1', day: 5, items: [['CARAFE', 1]] },
  { user: 'a1', day: 45, items: [['CARAFE', 1]] },
  { user: 'a2', day: 5, items: [['CARAFE', 1]] },
  // Pods have no lifetime, but 20 regular repeats every 10 days prove they run out.
  ...['p1', 'p2', 'p3', 'p4', 'p5'].flatMap((u) => every(u, 'PODS', 0, 10, 5)),
  // Beans: too few repeats of their own; they follow the coffee category's rhythm.
  ...every('p1', 'BEANS', 1, 11, 2),
  ...every('p2', 'BEANS', 1, 11, 2),
  // Soap: a single repeat is too little, so the shop's 45 days stand.
  ...every('s1', 'SOAP', 0, 45, 2),
  // Blades bought two at a time every 28 days: one blade lasts 14.
  ...['b1', 'b2', 'b3'].flatMap((u) => every(u, 'BLADE', 0, 14, 3, 2)),
];

for (const target of testDatabases()) {
  describe(`replenishment (${target.name})`, () => {
    let server: TestServer;
    let ws: { id: string; adminToken: string };
    let rep: ReplenishmentService;
    const clock = new VirtualClock(at(250));

    before(async () => {
      server = await startTestServer(target, { clock });
      ws = await server.workspace();
      rep = createReplenishmentService({ db: server.tend.db, clock });
      server.tend.ingest.onIngested((batch) => rep.onIngested(batch));
      await loadShop(server.tend, ws.id, products, orders);
      await rep.fit(ws.id);
    });
    after(() => server.close());

    const api = async (path: string) => {
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ws.adminToken}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    it('learns intervals from repeat purchases, per unit, with fallbacks to the lifetime and the category', async () => {
      const bySku = new Map((await rep.products(ws.id)).map((p) => [p.sku, p]));
      assert.deepEqual([...bySku.keys()].sort(), ['BEANS', 'BLADE', 'FILTER', 'PODS', 'SOAP']);
      const filter = bySku.get('FILTER')!;
      // a1–a4: 3 gaps each, a5: 3, q: 2 (40 days for two filters = 20 each), m: none (one purchase), r: none (refund).
      assert.deepEqual([filter.source, filter.intervalDays, filter.observations], ['learned', 20, 17]);
      assert.equal(filter.reason, 'customers reorder it about every 20 days per unit (median of 17 repeat purchases)');
      assert.deepEqual([bySku.get('BLADE')!.source, bySku.get('BLADE')!.intervalDays], ['learned', 14]);
      assert.deepEqual([bySku.get('PODS')!.source, bySku.get('PODS')!.intervalDays, bySku.get('PODS')!.observations], ['learned', 10, 20]);
      assert.deepEqual([bySku.get('SOAP')!.source, bySku.get('SOAP')!.intervalDays, bySku.get('SOAP')!.observations], ['lifetime', 45, 1]);
      assert.deepEqual([bySku.get('BEANS')!.source, bySku.get('BEANS')!.intervalDays, bySku.get('BEANS')!.observations], ['category', 10, 2]);
      assert.match(bySku.get('BEANS')!.reason, /^products in Coffee last about 10 days/);
    });

    it('dates each contact’s replacement: last purchase + interval × units, in plain words', async () => {
      const a1 = await rep.forContact(ws.id, await contactOf(server.tend, ws.id, 'a1'));
      assert.equal(a1.length, 1, 'the carafe is not replenishable');
      assert.equal(a1[0]!.dueAt.toISOString(), at(80));
      assert.equal(a1[0]!.status, 'overdue');
      assert.equal(a1[0]!.reason, 'bought 1 × Water filter on 2 March 2026; one lasts about 20 days; due 22 March 2026');

      // Two orders two hours apart are one purchase of two filters.
      const m = await rep.forContact(ws.id, await contactOf(server.tend, ws.id, 'm'));
      assert.equal(m[0]!.quantity, 2);
      assert.equal(m[0]!.dueAt.getTime(), START + (2 / 24) * DAY_MS + 40 * DAY_MS);
      assert.match(m[0]!.reason, /^bought 2 × Water filter on 1 January 2026; one lasts about 20 days, so 2 last about 40 days; due 10 February 2026$/);

      // The refunded order does not count.
      const r = await rep.forContact(ws.id, await contactOf(server.tend, ws.id, 'r'));
      assert.equal(r[0]!.dueAt.toISOString(), at(20));

      const a5 = await rep.forContact(ws.id, await contactOf(server.tend, ws.id, 'a5'));
      assert.deepEqual([a5[0]!.dueAt.toISOString(), a5[0]!.status], [at(260), 'due']);
    });

    it('moves the due date when the contact orders again', async () => {
      clock.set(at(300));
      const id = await contactOf(server.tend, ws.id, 'a1');
      await server.tend.ingest.ingest(ws.id, [
        { type: 'track', messageId: 'again-1', userId: 'a1', event: 'Order Completed', timestamp: at(299), properties: { order_id: 'again-1', total: 30, products: [{ sku: 'FILTER', quantity: 3, price: 10 }] } },
      ]);
      const due = await rep.forContact(ws.id, id);
      assert.equal(due[0]!.dueAt.toISOString(), at(299 + 60));
      assert.equal(due[0]!.status, 'later');
    });

    it('serves intervals and due dates on the admin API', async () => {
      const list = await api('/api/replenishment/products');
      assert.equal(list.status, 200);
      const filter = (list.body.products as Array<Record<string, unknown>>).find((p) => p.sku === 'FILTER')!;
      assert.deepEqual([filter.name, filter.intervalDays, filter.observations, filter.source], ['Water filter', 20, 17, 'learned']);
      const id = await contactOf(server.tend, ws.id, 'q');
      const due = await api(`/api/contacts/${id}/replenishment`);
      assert.equal(due.status, 200);
      const items = due.body.items as Array<Record<string, unknown>>;
      assert.deepEqual([items[0]!.sku, items[0]!.dueAt, items[0]!.quantity], ['FILTER', at(80), 1]);
      assert.equal((await api('/api/contacts/999999/replenishment')).status, 404);
      assert.equal((await fetch(`${server.url}/api/replenishment/products`)).status, 401);
    });
  });
}

describe('choosing intervals (pure)', () => {
  const stats = (sku: string, observations: number, q1: number, median: number, q3: number, buyers = 10, repeatBuyers = 5) => ({ sku, observations, buyers, repeatBuyers, q1, median, q3 });
  const pick = (list: ProductInterval[], sku: string) => list.find((p) => p.sku === sku);

  it('uses the lifetime when the gaps are too few or too irregular to be a cycle', () => {
    const list = chooseIntervals(
      [
        { sku: 'FEW', name: 'few', category: 'X', lifetimeDays: 30 },
        { sku: 'IRREGULAR', name: 'irregular', category: 'X', lifetimeDays: 30 },
        { sku: 'REGULAR', name: 'regular', category: 'X', lifetimeDays: 30 },
      ],
      [stats('FEW', 4, 9, 10, 11), stats('IRREGULAR', 50, 5, 12, 40), stats('REGULAR', 5, 9, 10, 11)],
    );
    assert.deepEqual(pick(list, 'FEW'), { sku: 'FEW', intervalDays: 30, observations: 4, source: 'lifetime' });
    assert.deepEqual(pick(list, 'IRREGULAR'), { sku: 'IRREGULAR', intervalDays: 30, observations: 50, source: 'lifetime' });
    assert.deepEqual(pick(list, 'REGULAR'), { sku: 'REGULAR', intervalDays: 10, observations: 5, source: 'learned' });
  });

  it('treats a product without a lifetime as durable unless the evidence is strong', () => {
    const list = chooseIntervals(
      [
        { sku: 'CONSUMABLE', name: 'c', category: 'X', lifetimeDays: 30 },
        { sku: 'GIFT', name: 'bought twice as a gift', category: 'X', lifetimeDays: null },
        { sku: 'RARE', name: 'comes back rarely', category: 'X', lifetimeDays: null },
        { sku: 'SLOW', name: 'other rhythm', category: 'X', lifetimeDays: null },
      ],
      [
        stats('CONSUMABLE', 100, 28, 30, 32, 100, 60),
        stats('GIFT', 12, 20, 100, 300),
        stats('RARE', 3, 29, 30, 31, 100, 3),
        stats('SLOW', 3, 88, 90, 92, 10, 3),
      ],
    );
    assert.deepEqual(list.map((p) => p.sku), ['CONSUMABLE']);
  });

  it('counts products ordered but missing from the catalog as durable by default', () => {
    assert.deepEqual(chooseIntervals([], [stats('GHOST', 10, 9, 10, 11)]), []);
    assert.deepEqual(chooseIntervals([], [stats('GHOST', 25, 9, 10, 11)]).map((p) => p.source), ['learned']);
  });
});
