// The offline evaluation on a generated demo shop: the models must beat popularity. The shop's
// orders go in through ingestion (only the order events, which is all the models read), so the
// comparison runs on the same tables, through the same queries, as `tend recommend evaluate`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { upsertProducts } from '../../src/catalog/index.ts';
import { demoCatalog, demoMessages } from '../../src/demo/index.ts';
import { createReplenishmentService } from '../../src/models/replenishment/index.ts';
import { createRecommendationService, type Evaluation } from '../../src/models/recommend/index.ts';

const SHOP = { customers: 3000, months: 18, seed: 7 };

async function loadDemoOrders(tend: Tend, workspaceId: string): Promise<number> {
  await tend.db.transaction((tx) => upsertProducts(tx, workspaceId, demoCatalog(SHOP.seed), tend.clock.now()));
  let batch: unknown[] = [];
  let orders = 0;
  for (const m of demoMessages(SHOP)) {
    if (m.type !== 'track' || (m.event !== 'Order Completed' && m.event !== 'Order Refunded')) continue;
    batch.push(m);
    orders++;
    if (batch.length === 500) {
      await tend.ingest.ingest(workspaceId, batch);
      batch = [];
    }
  }
  if (batch.length > 0) await tend.ingest.ingest(workspaceId, batch);
  return orders;
}

for (const target of testDatabases()) {
  describe(`offline evaluation on the demo shop (${target.name})`, () => {
    let tend: Tend;
    let evaluation: Evaluation;
    const recall = (protocol: 'newProducts' | 'everything', method: string) => {
      const m = evaluation[protocol].methods.find((x) => x.method === method);
      assert.ok(m, method);
      return m.recall;
    };

    before(async () => {
      // The demo's history ends on 1 November 2026; the clock stands just after it.
      const clock = new VirtualClock('2026-11-02T00:00:00Z');
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
      const { workspace } = await tend.workspaces.createWithKeys('evaluation');
      await loadDemoOrders(tend, workspace.id);
      const replenishment = createReplenishmentService({ db: tend.db, clock });
      const result = await createRecommendationService({ db: tend.db, clock, replenishment }).evaluate(workspace.id, { testDays: 90 });
      assert.ok(result.ok);
      evaluation = result.value;
    });
    after(() => tend.close());

    it('holds out the last 90 days and evaluates hundreds of customers', () => {
      assert.equal(Math.round((evaluation.end.getTime() - evaluation.cutoff.getTime()) / 86_400_000), 90);
      assert.ok(evaluation.trainCustomers > 1000, `${evaluation.trainCustomers} customers to train on`);
      assert.ok(evaluation.newProducts.customers > 300, `${evaluation.newProducts.customers} customers bought something new`);
    });

    it('beats popularity on recall@10 for new products, with EASE and with item-kNN', () => {
      for (const baseline of ['popularity', 'popularity, last 90 days']) {
        assert.ok(recall('newProducts', 'EASE') > recall('newProducts', baseline), `EASE ${recall('newProducts', 'EASE')} vs ${baseline} ${recall('newProducts', baseline)}`);
        assert.ok(recall('newProducts', 'item-kNN (cosine)') > recall('newProducts', baseline));
      }
    });

    it('beats popularity on everything bought, and replenishment and the model each add to it', () => {
      const popularity = recall('everything', 'popularity');
      const withDue = recall('everything', 'popularity + replenishment');
      const forYou = recall('everything', 'for you (replenishment + EASE)');
      assert.ok(popularity < withDue && withDue < forYou, `${popularity} < ${withDue} < ${forYou}`);
    });
  });
}
