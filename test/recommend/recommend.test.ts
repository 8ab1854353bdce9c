import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { createReplenishmentService } from '../../src/models/replenishment/index.ts';
import { createRecommendationService, type RecommendationService } from '../../src/models/recommend/index.ts';
import { at, contactOf, loadShop, type FixtureOrder } from './fixture.ts';

const products = [
  { sku: 'GRINDER', name: 'Burr grinder', category: 'Coffee' },
  { sku: 'SCALE', name: 'Coffee scale', category: 'Coffee' },
  { sku: 'MAT', name: 'Baking mat', category: 'Baking' },
  { sku: 'MIXER', name: 'Hand mixer', category: 'Baking' },
  { sku: 'MUG', name: 'Enamel mug', category: 'Coffee' },
  { sku: 'PODS', name: 'Coffee pods', category: 'Coffee', lifetimeDays: 30 },
  { sku: 'TABS', name: 'Descaler tabs', category: 'Coffee', lifetimeDays: 90 },
  { sku: 'LAMP', name: 'Desk lamp', category: 'Home', relatedSkus: ['BULB'] },
  { sku: 'BULB', name: 'Lamp bulb', category: 'Home' },
];

const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

// The grinder and the scale always go together (10 customers); so do the mat and the mixer (8);
// the mug is the best seller, bought alone by 15. y has the grinder and the scale, pods that run out
// now, and descaler tabs bought last week.
const orders: FixtureOrder[] = [
  ...range(10, 'g').map((user, i) => ({ user, day: 10 + i, items: [['GRINDER', 1], ['SCALE', 1]] as [string, number][] })),
  ...range(8, 'b').map((user, i) => ({ user, day: 20 + i, items: [['MAT', 1], ['MIXER', 1]] as [string, number][] })),
  ...range(15, 'm').map((user, i) => ({ user, day: 5 + i, items: [['MUG', 1]] as [string, number][] })),
  { user: 'x', day: 50, items: [['GRINDER', 1]] },
  { user: 'y', day: 40, items: [['GRINDER', 1], ['SCALE', 1]] },
  { user: 'y', day: 70, items: [['PODS', 1]] },
  { user: 'y', day: 93, items: [['TABS', 1]] },
];

for (const target of testDatabases()) {
  describe(`recommendations (${target.name})`, () => {
    let server: TestServer;
    let ws: { id: string; adminToken: string };
    let recs: RecommendationService;
    const clock = new VirtualClock(at(100));

    before(async () => {
      server = await startTestServer(target, { clock });
      ws = await server.workspace();
      const replenishment = createReplenishmentService({ db: server.tend.db, clock });
      recs = createRecommendationService({ db: server.tend.db, clock, replenishment });
      await loadShop(server.tend, ws.id, products, orders);
      await server.tend.ingest.ingest(ws.id, [{ type: 'identify', messageId: 'z', userId: 'z', traits: { email: 'z@example.com' } }]);
    });
    after(() => server.close());

    const api = async (path: string) => {
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ws.adminToken}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    it('fits on demand, and finds what is bought together, with the count in the reason', async () => {
      const r = await recs.forProduct(ws.id, 'GRINDER', 3);
      assert.ok(r);
      assert.equal(r.recommendations[0]!.sku, 'SCALE');
      assert.equal(r.recommendations[0]!.reason, '11 customers who bought Burr grinder also bought it');
      assert.ok(!r.recommendations.some((x) => x.sku === 'MIXER'), 'never bought with a grinder');
      const model = await recs.model(ws.id);
      assert.equal(model?.customers, 35);
    });

    it('recommends to a contact what customers like them bought, not merely the best seller', async () => {
      const x = await recs.forContact(ws.id, await contactOf(server.tend, ws.id, 'x'), 3);
      assert.equal(x[0]!.sku, 'SCALE');
      assert.equal(x[0]!.kind, 'model');
      assert.equal(x[0]!.reason, 'customers who bought Burr grinder, as you did, also bought it (11 customers bought both)');
      assert.ok(!x.some((r) => r.sku === 'GRINDER'), 'x has a grinder');
    });

    it('leaves out what the contact has, except consumables that run out now, which come first', async () => {
      const id = await contactOf(server.tend, ws.id, 'y');
      const list = await recs.forContact(ws.id, id, 10);
      const skus = list.map((r) => r.sku);
      assert.equal(list[0]!.sku, 'PODS');
      assert.equal(list[0]!.kind, 'replenish');
      assert.equal(list[0]!.reason, 'bought 1 × Coffee pods on 12 March 2026; one lasts about 30 days; due 11 April 2026');
      for (const owned of ['GRINDER', 'SCALE', 'TABS']) assert.ok(!skus.includes(owned), `${owned} is owned and not due`);
      assert.ok(skus.includes('MUG'));
    });

    it('falls back to best sellers for a contact without orders', async () => {
      const list = await recs.forContact(ws.id, await contactOf(server.tend, ws.id, 'z'), 2);
      assert.deepEqual(list.map((r) => [r.sku, r.kind]), [['MUG', 'popular'], ['GRINDER', 'popular']]);
      assert.equal(list[0]!.reason, 'a best seller: bought by 15 customers');
    });

    it("uses the shop's related products before anyone has bought them", async () => {
      const lamp = await recs.forProduct(ws.id, 'LAMP');
      assert.deepEqual(lamp?.recommendations.map((r) => [r.sku, r.reason]), [['BULB', "goes with Desk lamp (one of the shop's related products)"]]);
    });

    it('serves both lists on the admin API', async () => {
      const product = await api('/api/products/GRINDER/recommendations?limit=1');
      assert.equal(product.status, 200);
      assert.deepEqual((product.body.recommendations as Array<Record<string, unknown>>).map((r) => r.sku), ['SCALE']);
      const id = await contactOf(server.tend, ws.id, 'y');
      const contact = await api(`/api/contacts/${id}/recommendations?limit=2`);
      assert.equal(contact.status, 200);
      // y has everything that goes with a grinder, so after the due pods comes the best seller.
      assert.deepEqual((contact.body.recommendations as Array<Record<string, unknown>>).map((r) => [r.sku, r.kind]), [['PODS', 'replenish'], ['MUG', 'popular']]);
      assert.equal((await api('/api/products/NOPE/recommendations')).status, 404);
      assert.equal((await api('/api/contacts/999999/recommendations')).status, 404);
      assert.equal((await api('/api/contacts/1/recommendations?limit=0')).status, 400);
      const model = await api('/api/recommendations/model');
      assert.equal(model.body.method, 'ease');
    });

    it('runs the offline evaluation on the admin API, and says when the cutoff leaves nothing to test', async () => {
      const r = await api('/api/recommendations/evaluation?testDays=60');
      assert.equal(r.status, 200);
      const methods = (r.body.newProducts as { methods: Array<{ method: string }> }).methods.map((m) => m.method);
      assert.deepEqual(methods, ['popularity', 'popularity, last 90 days', 'item-kNN (cosine)', 'EASE']);
      const late = await api('/api/recommendations/evaluation?cutoff=2027-01-01');
      assert.equal(late.status, 400);
      assert.equal(late.body.field, 'cutoff');
      assert.match(String(late.body.error), /^the cutoff must be before the last order/);
    });
  });
}
