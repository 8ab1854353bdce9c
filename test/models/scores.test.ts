// RFM cells, churn, lifecycle stages and explanations on a small hand-made history, scored with a
// known fit (the CDNOW estimates, converted to days) and fixed RFM thresholds, so that every
// expected value can be worked out by hand.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { VirtualClock, DAY_MS } from '../../src/core/clock.ts';
import { runImport } from '../../src/imports/index.ts';
import { saveFit } from '../../src/models/scores/store.ts';
import type { FitResult } from '../../src/models/scores/index.ts';
import { parseNumbers, toPgArray } from '../../src/models/scores/sql/arrays.ts';

const NOW = '2026-06-15T12:00:00Z';
const day = (daysAgo: number) => new Date(Date.parse('2026-06-15T10:00:00Z') - daysAgo * DAY_MS).toISOString();

/** Order histories, in days before NOW (2026-06-15). */
const histories: Record<string, number[]> = {
  alice: Array.from({ length: 13 }, (_, i) => 370 - 30 * i), // every 30 days, last 10 days ago
  bob: Array.from({ length: 6 }, (_, i) => 270 - 30 * i), // every 30 days, then nothing for 120 days
  carl: [1295, 930, 565, 200], // a kitchen appliance once a year, last 200 days ago
  dora: [20], // one order, 20 days ago
  eve: [400], // one order, 400 days ago
  fay: [900, 870, 840, 10], // three orders long ago, then back 10 days ago
};

/** The CDNOW estimates in days (alpha × 7), with the published Gamma-Gamma spend model. */
export function knownFit(asOf: string): FitResult {
  return {
    asOf, timeUnit: 'days', customers: 6, repeatCustomers: 4, patterns: 6, notes: [],
    bgnbd: { r: 0.243, alpha: 4.414 * 7, a: 0.793, b: 2.426, logLikelihood: 0, iterations: 0, converged: true },
    gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44, logLikelihood: 0, customers: 4, iterations: 0, converged: true },
    rfm: null,
    timings: { inputsMs: 0, optimiseMs: 0, totalMs: 0 },
  };
}

export async function loadHistories(tend: Tend, ws: string): Promise<Record<string, number>> {
  const rows = ['order_id,user_id,ordered_at,total'];
  for (const [user, days] of Object.entries(histories)) days.forEach((d, i) => rows.push(`${user}-${i},${user},${day(d)},${40 + i}`));
  const job = await runImport(tend, { workspaceId: ws, kind: 'orders', input: [rows.join('\n')] });
  assert.equal(job.rowsRejected, 0, JSON.stringify(job.errors));
  const r = await tend.ingest.ingest(ws, [
    { type: 'identify', userId: 'gus', messageId: 'gus-1', timestamp: day(5), traits: { email: 'gus@example.com' } },
    { type: 'page', anonymousId: 'visitor-1', messageId: 'v-1', timestamp: day(1), name: 'Home' },
  ]);
  assert.equal(r.rejected.length, 0);
  const { rows: ids } = await tend.db.query<{ id: number; user_id: string | null }>(`select id, user_id from contacts where workspace_id = $1`, [ws]);
  return Object.fromEntries(ids.map((c) => [c.user_id ?? 'visitor', c.id]));
}

for (const target of testDatabases()) {
  describe(`customer scores on a hand-made history (${target.name})`, () => {
    let tend: Tend;
    let ws: string;
    let ids: Record<string, number>;
    const clock = new VirtualClock(NOW);
    const stageEvents = async () =>
      (await tend.db.query<{ contact_id: number; properties: { from: string; to: string } }>(
        `select contact_id, properties from events where workspace_id = $1 and name = 'Lifecycle Stage Changed' order by id`, [ws],
      )).rows;

    before(async () => {
      tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open(), clock });
      ws = (await tend.workspaces.createWithKeys('scores')).workspace.id;
      ids = await loadHistories(tend, ws);
      await saveFit(tend.db, ws, knownFit('2026-06-15'), clock.now(), 1);
      await tend.models.updateSettings(ws, { rfm: { method: 'thresholds', recencyDays: [30, 90, 180, 365], frequency: [1, 2, 4, 8], monetary: [50, 100, 250, 500] } });
    });
    after(() => tend.close());

    it('passes arrays to the database and back as literals', async () => {
      const text = ['plain', 'a "quote"', 'back\\slash', 'comma, and {brace}', '', null];
      const numbers = [1, -2.5, 0.1, 1e-7, 123456789012, null];
      const { rows } = await tend.db.query<{ t: (string | null)[]; n: string }>(`select $1::text[] as t, ($2::float8[])::text as n`, [toPgArray(text), toPgArray(numbers)]);
      assert.deepEqual(rows[0]!.t, text);
      assert.deepEqual(parseNumbers(rows[0]!.n), numbers);
    });

    it('scores every known contact: stage, RFM cell, churn band, explanation', async () => {
      const run = await tend.models.score(ws);
      assert.equal(run.scored, 7); // six customers and gus; the anonymous visitor is not scored
      assert.equal(run.stageChanges, 0); // a first scoring announces nothing
      const got: Record<string, { stage: string | null; cell: string | null; band: string | null; risk: number | null; explanation: string | null }> = {};
      for (const name of ['alice', 'bob', 'carl', 'dora', 'eve', 'fay', 'gus']) {
        const s = (await tend.models.scoresOf(ws, ids[name]!))!;
        got[name] = { stage: s.lifecycleStage, cell: s.rfmCell, band: s.churnBand, risk: s.churnRisk, explanation: s.explanation };
      }
      assert.equal(await tend.models.scoresOf(ws, ids.visitor!), null);
      assert.deepEqual(
        Object.fromEntries(Object.entries(got).map(([k, v]) => [k, [v.stage, v.cell]])),
        {
          alice: ['loyal', 'Champions'],
          bob: ['at_risk', 'Loyal'],
          carl: ['active', 'At risk'],
          dora: ['new_customer', 'New customers'],
          eve: ['lapsed', 'Lost'],
          fay: ['won_back', 'Potential loyalist'],
          gus: ['prospect', null],
        },
      );
      // A 120-day gap is alarming for a monthly buyer and normal for a yearly one.
      assert.deepEqual([got.bob!.band, got.carl!.band], ['high', 'medium']);
      assert.ok(got.bob!.risk! > 2.5 * got.carl!.risk!, `bob ${got.bob!.risk}, carl ${got.carl!.risk}`);
      assert.equal(got.alice!.band, 'low');
      assert.equal(got.dora!.band, 'low'); // one order: BG/NBD's P(alive) is 1 until a repeat purchase
      assert.match(got.alice!.explanation!, /^usually buys every 30 days; last order 10 days ago; \d+% likely to still be a customer; expected to spend [\d.,]+ in the next 12 months$/);
      assert.match(got.bob!.explanation!, /^usually buys every 30 days; last order 4 months ago; \d+% likely/);
      assert.match(got.carl!.explanation!, /^usually buys every 12 months; last order 7 months ago; \d+% likely/);
      assert.match(got.dora!.explanation!, /^bought once, 20 days ago; \d+% chance of another order in the next 90 days/);
      assert.equal(got.gus!.explanation, 'no order yet');
    });

    it('announces a stage change once, when it happens', async () => {
      clock.advance(80 * DAY_MS); // dora's only order is now 100 days old
      await tend.models.score(ws);
      const dora = (await stageEvents()).filter((e) => e.contact_id === ids.dora);
      assert.deepEqual(dora.map((e) => e.properties), [{ from: 'new_customer', to: 'active' }]);
      const count = (await stageEvents()).length;
      await tend.models.score(ws); // the same run again: nothing new
      clock.advance(60_000);
      await tend.models.score(ws); // a minute later: nothing changed
      assert.equal((await stageEvents()).length, count);
      const history = (await tend.models.scoresOf(ws, ids.dora!))!.stageHistory;
      assert.deepEqual(history.map((h) => [h.from, h.to]), [['new_customer', 'active']]);
    });

    it('rescores a lapsed customer who orders again, and announces the win-back', async () => {
      await tend.ingest.ingest(ws, [
        { type: 'track', userId: 'eve', event: 'Order Completed', messageId: 'eve-back', timestamp: clock.now().toISOString(), properties: { order_id: 'eve-back', total: 55 } },
      ]);
      await tend.scoreUpdater.flush();
      const eve = (await tend.models.scoresOf(ws, ids.eve!))!;
      assert.equal(eve.lifecycleStage, 'won_back');
      assert.match(eve.explanation!, /^usually buys every 16 months; last order today/);
      assert.deepEqual(eve.stageHistory.map((h) => [h.from, h.to]), [['lapsed', 'won_back']]);
    });
  });
}
