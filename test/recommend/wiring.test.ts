import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';

for (const target of testDatabases()) {
  describe(`replenishment follows orders as they arrive (${target.name})`, () => {
    let tend: Tend;
    const clock = new VirtualClock('2026-06-01T12:00:00Z');
    before(async () => {
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
    });
    after(() => tend.close());

    it('an order over the tracking path sets the due date of a product that runs out', async () => {
      const ws = (await tend.workspaces.createWithKeys('refill')).workspace.id;
      await tend.db.query(
        `insert into products (workspace_id, sku, name, category, price, lifetime_days, created_at, updated_at) values ($1, 'FILTER', 'Water filter', 'Water', 12, 30, now(), now())`,
        [ws],
      );
      // What lasts how long is learned by a fit (here: from the product's lifetime); orders then
      // move each contact's due dates as they arrive.
      await tend.replenishment.fit(ws);
      await tend.ingest.ingest(ws, [
        { type: 'track', userId: 'r1', event: 'Order Completed', timestamp: '2026-05-20T10:00:00Z', properties: { order_id: 'r1-1', total: 24, products: [{ sku: 'FILTER', price: 12, quantity: 2 }] } },
      ]);
      const contactId = (await tend.contacts.findByUserId(ws, 'r1'))!;
      const due = await tend.replenishment.forContact(ws, contactId);
      assert.equal(due.length, 1);
      assert.equal(due[0]!.sku, 'FILTER');
      // Two filters of 30 days each, from 20 May.
      assert.equal(new Date(due[0]!.dueAt).toISOString().slice(0, 10), '2026-07-19');
    });
  });
}
