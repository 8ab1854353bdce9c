// The pure parts of scoring: lifetime value as btyd computes it, the RFM map and quantiles, the
// lifecycle rules and the explanation texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customerLifetimeValue, expectedPurchases, pAlive, pPurchaseWithin } from '../../src/models/btyd/index.ts';
import { createScorer } from '../../src/models/scores/score.ts';
import { quintileCuts, quintileCutsOf, quintileCutsOfHistogram, rfmCell, scoreHigherBetter, scoreRecency } from '../../src/models/scores/rfm.ts';
import { lifecycleStage } from '../../src/models/scores/lifecycle.ts';
import { explain, explainStored, span, percent } from '../../src/models/scores/explain.ts';
import { ModelSettings, rfmCells, type StoredFit } from '../../src/models/scores/schema.ts';
import { dayOf } from '../../src/models/scores/inputs.ts';
import { cdnowSummary } from './btyd-data.ts';

const bgnbd = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, logLikelihood: -9582.4, iterations: 0, converged: true };
const gammaGamma = { p: 6.25, q: 3.74, gamma: 15.44, logLikelihood: 0, customers: 946, iterations: 0, converged: true };
const fit: StoredFit = { asOf: '1997-09-30', timeUnit: 'weeks', customers: 2357, fittedAt: new Date(0), durationMs: 0, bgnbd, gammaGamma, rfm: { recencyDays: [10, 20, 30, 40], frequency: [1, 1, 2, 3], monetary: [20, 40, 60, 80] } };
const settings = ModelSettings.parse({});

test('scores match the BG/NBD and Gamma-Gamma functions, lifetime value included', () => {
  const score = createScorer({ asOf: '1997-09-30', fit, settings });
  const s = cdnowSummary();
  const asOfDay = dayOf('1997-09-30');
  for (let i = 0; i < s.id.length; i += 7) {
    const x = s.x[i]!;
    const T = Math.round(s.T[i]! * 7);
    const tx = Math.round(s.tx[i]! * 7);
    const first = asOfDay - T;
    const out = score({ contactId: i, x, firstDay: first, lastDay: first + tx, lastGap: 0, repeatSpend: s.zbar[i]! * x, spend: 0 });
    const at = `customer ${s.id[i]}`;
    assert.ok(Math.abs(out.pAlive! - pAlive(bgnbd, x, tx / 7, T / 7)) < 1e-12, at);
    assert.ok(Math.abs(out.expectedPurchases90d! - expectedPurchases(bgnbd, 90 / 7, x, tx / 7, T / 7)) < 1e-9, at);
    const clv = customerLifetimeValue(bgnbd, gammaGamma, x, tx / 7, T / 7, s.zbar[i]!, { periods: 12, periodLength: 365.25 / 12 / 7, discountRate: 0.01 });
    assert.ok(Math.abs(out.predictedClv! - clv) < 1e-9 * Math.max(1, clv), `${at}: ${out.predictedClv} vs ${clv}`);
    assert.equal(out.churnRisk, 1 - out.pAlive!);
  }
});

test('a prospect, and scoring without a fit', () => {
  const prospect = createScorer({ asOf: '2026-01-01', fit, settings })({ contactId: 1, x: null, firstDay: null, lastDay: null, lastGap: null, repeatSpend: null, spend: null });
  assert.equal(prospect.lifecycleStage, 'prospect');
  const today = dayOf('2026-01-01');
  assert.equal(explainStored(prospect, today, 12), 'no order yet');
  assert.equal(prospect.pAlive, null);
  const noFit = createScorer({ asOf: '2026-01-01', fit: null, settings })({ contactId: 2, x: 2, firstDay: today - 500, lastDay: today - 400, lastGap: 50, repeatSpend: 30, spend: 45 });
  assert.deepEqual([noFit.pAlive, noFit.rfmCell, noFit.predictedClv, noFit.lifecycleStage], [null, null, null, 'lapsed']);
  assert.equal(explainStored(noFit, today, 12), 'usually buys every 50 days; last order 13 months ago');
  assert.equal(explainStored(noFit, today + 30, 12), 'usually buys every 50 days; last order 14 months ago'); // counts to the day given
  assert.equal(explainStored({ ...noFit, purchaseDays: null }, today, 12), null); // a row from before the facts were stored
});

test('the chance of an order in 90 days is pPurchaseWithin, and the one-time buyer explanation gives it', () => {
  const asOf = dayOf('1997-09-30');
  const s = createScorer({ asOf: '1997-09-30', fit, settings })({ contactId: 3, x: 0, firstDay: asOf - 20, lastDay: asOf - 20, lastGap: 0, repeatSpend: 0, spend: 30 });
  assert.ok(Math.abs(s.pOrder90d! - pPurchaseWithin(bgnbd, 90 / 7, 0, 0, 20 / 7)) < 1e-12);
  assert.deepEqual([s.purchaseDays, s.firstOrderDay, s.lastOrderDay], [1, asOf - 20, asOf - 20]);
  assert.match(explainStored(s, asOf, 12)!, new RegExp(`^bought once, 20 days ago; ${Math.round(s.pOrder90d! * 100)}% chance of another order in the next 90 days; expected to spend`));
});

test('the RFM map names every pair of scores with one of the eleven cells', () => {
  const seen = new Set<string>();
  for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) seen.add(rfmCell(r, f));
  assert.deepEqual([...seen].sort(), [...rfmCells].sort());
  assert.equal(rfmCell(5, 5), 'Champions');
  assert.equal(rfmCell(5, 1), 'New customers');
  assert.equal(rfmCell(1, 5), "Can't lose them");
  assert.equal(rfmCell(1, 1), 'Lost');
  // Bands: a value on a cut point belongs to the lower frequency band and the higher recency band.
  assert.deepEqual([1, 2, 3, 4, 5, 9].map((v) => scoreHigherBetter(v, [1, 2, 4, 8])), [1, 2, 3, 3, 4, 5]);
  assert.deepEqual([0, 30, 31, 365, 366].map((d) => scoreRecency(d, [30, 90, 180, 365])), [5, 5, 4, 2, 1]);
});

test('quintile cut points from a histogram equal those of the sorted values', () => {
  const values = [1, 1, 1, 1, 1, 1, 2, 2, 3, 7, 1, 2, 5];
  const histogram = new Map<number, number>();
  for (const v of values) histogram.set(v, (histogram.get(v) ?? 0) + 1);
  assert.deepEqual(quintileCutsOfHistogram(histogram), quintileCuts(values.slice().sort((a, b) => a - b)));
  assert.deepEqual(quintileCuts([1, 1, 1, 1, 1, 1, 1, 1, 2, 3]), [1, 1, 1, 1]);
});

test('lifecycle stages: the first rule that matches wins', () => {
  const rules = settings.lifecycle;
  const stage = (f: Partial<Parameters<typeof lifecycleStage>[0]>) =>
    lifecycleStage({ purchaseDays: 2, daysSinceLastOrder: 10, churnBand: 'low', rfmCell: 'Potential loyalist', lapsedBeforeLastOrder: false, ...f }, rules);
  assert.equal(stage({ purchaseDays: 0, daysSinceLastOrder: null }), 'prospect');
  assert.equal(stage({ lapsedBeforeLastOrder: true }), 'won_back');
  assert.equal(stage({ lapsedBeforeLastOrder: true, daysSinceLastOrder: 91 }), 'active');
  assert.equal(stage({ purchaseDays: 1, churnBand: null }), 'new_customer');
  assert.equal(stage({ purchaseDays: 1, churnBand: null, daysSinceLastOrder: 120 }), 'active');
  assert.equal(stage({ purchaseDays: 1, churnBand: null, daysSinceLastOrder: 200 }), 'at_risk');
  assert.equal(stage({ purchaseDays: 1, churnBand: null, daysSinceLastOrder: 400 }), 'lapsed');
  assert.equal(stage({ churnBand: 'very_high' }), 'lapsed');
  assert.equal(stage({ churnBand: 'high', rfmCell: 'Champions' }), 'at_risk');
  assert.equal(stage({ rfmCell: 'Champions' }), 'loyal');
  assert.equal(stage({ daysSinceLastOrder: 1000 }), 'active'); // a repeat customer is judged by the model, not the calendar
});

test('explanations read like a person wrote them', () => {
  assert.deepEqual([0, 1, 31, 59, 60, 94, 400, 729, 730, 1500].map(span), ['0 days', '1 day', '31 days', '59 days', '2 months', '3 months', '13 months', '24 months', '2 years', '4 years']);
  assert.deepEqual([0.001, 0.12, 0.999].map(percent), ['less than 1%', '12%', 'over 99%']);
  assert.equal(
    explain({ purchaseDays: 4, activeDays: 93, daysSinceLastOrder: 94, pAlive: 0.12, pOrder90: 0.05, predictedClv: 12.345, horizonMonths: 12 }),
    'usually buys every 31 days; last order 3 months ago; 12% likely to still be a customer; expected to spend 12.35 in the next 12 months',
  );
  assert.equal(explain({ purchaseDays: 1, activeDays: 0, daysSinceLastOrder: 0, pAlive: 1, pOrder90: 0.3, predictedClv: 1234.5, horizonMonths: 24 }), 'bought once, today; 30% chance of another order in the next 90 days; expected to spend 1,235 in the next 24 months');
});

test('quintiles selected from values in any order are those of the sorted values', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const n of [1, 2, 5, 9, 10, 11, 1000, 4321]) {
    for (const distinct of [3, 50, 1e9]) {
      const values = Float64Array.from({ length: n }, () => Math.floor(random() * distinct) / 4);
      const sorted = values.slice().sort();
      assert.deepEqual(quintileCutsOf(values), quintileCuts(sorted), `${n} values, ${distinct} distinct`);
    }
  }
});
