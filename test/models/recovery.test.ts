// Customers simulated from known BG/NBD and Gamma-Gamma parameters, written as orders into the
// database and fitted by Tend's pipeline: the fit recovers the parameters, and the database's
// per-customer summary agrees exactly with the in-memory summary of the same orders.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { fitBgNbd, fitGammaGamma, summarizeTransactions, type Transaction } from '../../src/models/btyd/index.ts';
import { loadSimulatedOrders, simulateOrderHistories, type SimulateOrdersOptions } from '../../src/models/scores/index.ts';

const truth = {
  bgnbd: { r: 0.243, alpha: 4.414 * 7, a: 0.793, b: 2.426 }, // the CDNOW estimates, per day
  spend: { p: 6.25, q: 3.74, gamma: 15.44 },
};
const options: SimulateOrdersOptions = { customers: 20_000, ...truth, asOf: '2026-05-31', ageDays: { min: 365, max: 730 }, seed: 11 };

const within = (value: number, expected: number, relative: number, name: string) =>
  assert.ok(Math.abs(value - expected) <= relative * expected, `${name} = ${value.toFixed(4)}, simulated from ${expected} (±${relative * 100}%)`);

for (const target of testDatabases()) {
  describe(`fitting simulated customers through the database (${target.name})`, () => {
    let tend: Tend;
    let ws: string;
    const clock = new VirtualClock('2026-06-01T08:00:00Z');

    before(async () => {
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
      ws = (await tend.workspaces.createWithKeys('simulated')).workspace.id;
      await loadSimulatedOrders(tend.db, ws, options, clock.now());
    });
    after(() => tend.close());

    it('recovers the parameters it was simulated from, and agrees with the in-memory summary', async () => {
      const { fit } = await tend.models.fit(ws, { asOf: options.asOf, timeUnit: 'days', score: false });
      assert.equal(fit.customers, options.customers);
      const bg = fit.bgnbd!;
      const gg = fit.gammaGamma!;
      within(bg.r, truth.bgnbd.r, 0.1, 'r');
      within(bg.alpha, truth.bgnbd.alpha, 0.15, 'alpha');
      within(bg.a, truth.bgnbd.a, 0.25, 'a');
      within(bg.b, truth.bgnbd.b, 0.25, 'b');
      within(gg.p, truth.spend.p, 0.15, 'p');
      within(gg.q, truth.spend.q, 0.15, 'q');
      within(gg.gamma, truth.spend.gamma, 0.2, 'gamma');

      // The same orders summarised in memory (btyd/summary.ts) and fitted there.
      const transactions: Transaction[] = [];
      for (const part of simulateOrderHistories(options)) {
        for (let i = 0; i < part.length; i++) transactions.push({ customerId: part.customer[i]!, date: new Date(part.day[i]! * 86_400_000), amount: part.amount[i]! });
      }
      const summary = summarizeTransactions(transactions, options.asOf, 'days');
      const memory = fitBgNbd(summary);
      const memoryGg = fitGammaGamma(summary);
      for (const k of ['r', 'alpha', 'a', 'b', 'logLikelihood'] as const) {
        assert.ok(Math.abs(bg[k] - memory[k]) <= 1e-6 * Math.abs(memory[k]), `${k}: database ${bg[k]}, memory ${memory[k]}`);
      }
      for (const k of ['p', 'q', 'gamma'] as const) {
        assert.ok(Math.abs(gg[k] - memoryGg[k]) <= 1e-5 * memoryGg[k], `${k}: database ${gg[k]}, memory ${memoryGg[k]}`);
      }
    });
  });
}
