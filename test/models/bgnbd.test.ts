import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bgNbdCustomerLogLikelihood,
  bgNbdLogLikelihood,
  bgNbdObjective,
  compressRfm,
  expectedPurchases,
  expectedPurchasesIfAlive,
  expectedPurchasesNew,
  fitBgNbd,
  lgamma,
  nextPurchaseInterval,
  pAlive,
  pPurchaseWithin,
  scoreBgNbd,
  simulateBgNbd,
  summarizeTransactions,
  type BgNbdParams,
} from '../../src/models/btyd/index.ts';
import { cdnowSampleTransactions, cdnowSummary } from './btyd-data.ts';

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

test('BG/NBD on CDNOW reproduces Fader, Hardie & Lee (2005)', () => {
  const summary = summarizeTransactions(cdnowSampleTransactions(), '1997-09-30', 'weeks');
  const fit = fitBgNbd(summary);
  assert.ok(fit.converged);
  assert.equal(round(fit.r, 3), 0.243);
  assert.equal(round(fit.alpha, 3), 4.414);
  assert.equal(round(fit.a, 3), 0.793);
  assert.equal(round(fit.b, 3), 2.426);
  assert.equal(round(fit.logLikelihood, 1), -9582.4);
  // The paper's worked example: x = 2, t_x = 30.43, T = 38.86, next 39 weeks.
  assert.equal(round(expectedPurchases(fit, 39, 2, 30.43, 38.86), 3), 1.226);

  // The published 2-decimal summary gives the same estimates to the printed precision.
  const published = cdnowSummary();
  const fit2 = fitBgNbd({ x: published.x, tx: published.tx, T: published.T });
  assert.deepEqual([fit2.r, fit2.alpha, fit2.a, fit2.b].map((v) => round(v, 3)), [0.243, 4.414, 0.793, 2.426]);
});

test('compressed likelihood equals the sum of per-customer likelihoods, with weights', () => {
  const s = cdnowSummary();
  const params: BgNbdParams = { r: 0.3, alpha: 5, a: 1.4, b: 2.1 };
  let direct = 0;
  for (let i = 0; i < s.x.length; i++) direct += bgNbdCustomerLogLikelihood(params, s.x[i]!, s.tx[i]!, s.T[i]!);
  const c = compressRfm({ x: s.x, tx: s.tx, T: s.T });
  assert.ok(c.x.length + c.zeroT.length < s.x.length / 2, 'the 2-decimal data should compress');
  assert.ok(Math.abs(bgNbdLogLikelihood(params, c) - direct) < 1e-8);
  // Weighted rows are the same as repeated rows.
  const weighted = bgNbdLogLikelihood(params, { x: [0, 3, 1], tx: [0, 10, 2], T: [20, 30, 30], weights: [2, 3, 0.5] });
  const expanded =
    2 * bgNbdCustomerLogLikelihood(params, 0, 0, 20) +
    3 * bgNbdCustomerLogLikelihood(params, 3, 10, 30) +
    0.5 * bgNbdCustomerLogLikelihood(params, 1, 2, 30);
  assert.ok(Math.abs(weighted - expanded) < 1e-10);
  assert.throws(() => compressRfm({ x: [1.5], tx: [1], T: [2] }), RangeError);
  assert.throws(() => compressRfm({ x: [1], tx: [3], T: [2] }), RangeError);
  assert.throws(() => compressRfm({ x: [0], tx: [1], T: [2] }), RangeError);
});

test('with whole-day times, and with patterns already counted, the likelihood is the same sum', () => {
  const s = cdnowSummary();
  const days = { x: s.x, tx: Array.from(s.tx, (t) => Math.round(t * 7)), T: Array.from(s.T, (t) => Math.round(t * 7)) };
  const params: BgNbdParams = { r: 0.3, alpha: 30, a: 1.4, b: 2.1 };
  let direct = 0;
  for (let i = 0; i < s.x.length; i++) direct += bgNbdCustomerLogLikelihood(params, days.x[i]!, days.tx[i]!, days.T[i]!);
  const c = compressRfm(days);
  assert.ok(c.times.length <= 274, `one entry per distinct day of the 39 weeks, not ${c.times.length}`);
  assert.ok(Math.abs(bgNbdLogLikelihood(params, c) - direct) < 1e-8);
  // The same customers counted per pattern beforehand (as a workspace's fit does).
  const counts = new Map<string, number>();
  for (let i = 0; i < s.x.length; i++) counts.set(`${days.x[i]} ${days.tx[i]} ${days.T[i]}`, (counts.get(`${days.x[i]} ${days.tx[i]} ${days.T[i]}`) ?? 0) + 1);
  const patterns = [...counts].map(([key, w]) => [...key.split(' ').map(Number), w] as number[]);
  const counted = compressRfm({ x: patterns.map((p) => p[0]!), tx: patterns.map((p) => p[1]!), T: patterns.map((p) => p[2]!), weights: patterns.map((p) => p[3]!) }, { distinct: true });
  assert.equal(counted.x.length + counted.zeroT.length, counts.size);
  assert.ok(Math.abs(bgNbdLogLikelihood(params, counted) - direct) < 1e-8);
});

test('the analytic gradient matches central finite differences', () => {
  const s = cdnowSummary();
  const objective = bgNbdObjective({ x: s.x, tx: s.tx, T: s.T });
  for (const point of [[-1.2, 1.5, -0.2, 0.9], [0.4, 0.1, 1.1, -0.5]]) {
    const p = Float64Array.from(point);
    const grad = new Float64Array(4);
    objective(p, grad);
    for (let i = 0; i < 4; i++) {
      const h = 1e-5;
      const up = Float64Array.from(p);
      const down = Float64Array.from(p);
      up[i]! += h;
      down[i]! -= h;
      const numeric = (objective(up, new Float64Array(4)) - objective(down, new Float64Array(4))) / (2 * h);
      assert.ok(Math.abs(numeric - grad[i]!) <= 1e-6 * Math.max(1, Math.abs(numeric)), `component ${i}: ${grad[i]} vs ${numeric}`);
    }
  }
});

test('fitting simulated customers recovers the parameters', () => {
  const cases: BgNbdParams[] = [
    { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
    { r: 1.5, alpha: 20, a: 2.5, b: 8 },
  ];
  for (const [k, truth] of cases.entries()) {
    const sim = simulateBgNbd(truth, { customers: 50_000, T: { min: 20, max: 80 }, seed: 11 + k });
    const fit = fitBgNbd(sim);
    assert.ok(fit.converged);
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      const rel = Math.abs(fit[key] / truth[key] - 1);
      assert.ok(rel < 0.05, `case ${k} ${key}: ${fit[key]} vs ${truth[key]}`);
    }
    // Given the true parameters, P(alive) is calibrated: its mean matches the simulated truth.
    const scores = scoreBgNbd(truth, sim, 10);
    const meanAlive = scores.pAlive.reduce((s, v) => s + v, 0) / sim.x.length;
    const trueAlive = sim.alive.reduce((s, v) => s + v, 0) / sim.x.length;
    assert.ok(Math.abs(meanAlive - trueAlive) < 0.01, `case ${k}: mean P(alive) ${meanAlive} vs ${trueAlive}`);
  }
});

test('expected purchases of a new customer match simulation', () => {
  const truth: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
  for (const t of [10, 78]) {
    const sim = simulateBgNbd(truth, { customers: 100_000, T: t, seed: 5 });
    const mean = sim.x.reduce((s, v) => s + v, 0) / sim.x.length;
    const expected = expectedPurchasesNew(truth, t);
    assert.ok(Math.abs(mean / expected - 1) < 0.03, `t = ${t}: simulated ${mean} vs ${expected}`);
  }
});

// E[Y(t) | alive] = E_p[(1 - (1 + p k)^-(r+x)) / p] with p ~ Beta(a, b+x), k = t/(alpha+T): the
// posterior of (lambda, p) given alive is Gamma(r+x, alpha+T) x Beta(a, b+x). Integrated by
// tanh-sinh quadrature (p = logistic(pi sinh s)), which is exact to near machine precision
// despite the Beta density's singularities at 0 and 1.
function expectedIfAliveByQuadrature(params: BgNbdParams, t: number, x: number, T: number): number {
  const { r, alpha, a, b } = params;
  const beta = b + x;
  const k = t / (alpha + T);
  const m = r + x;
  const logB = lgamma(a) + lgamma(beta) - lgamma(a + beta);
  const h = 0.01;
  let sum = 0;
  for (let s = -6; s <= 6; s += h) {
    const u = Math.PI * Math.sinh(s);
    const logP = -Math.log1p(Math.exp(-u));
    const logQ = -Math.log1p(Math.exp(u));
    const p = Math.exp(logP);
    const g = -Math.expm1(-m * Math.log1p(p * k)) / p;
    sum += Math.exp(a * logP + beta * logQ - logB) * g * Math.PI * Math.cosh(s);
  }
  return sum * h;
}

test('conditional expected purchases agree with direct integration, including z near 1', () => {
  const sets: BgNbdParams[] = [
    { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
    { r: 0.5, alpha: 3, a: 1.5, b: 1.2 }, // c - a - b of the 2F1 is an integer
    { r: 2, alpha: 10, a: 1, b: 3 }, // a = 1: the closed form is 0/0
    { r: 2, alpha: 10, a: 1.0004, b: 3 },
    { r: 0.8, alpha: 1, a: 3.5, b: 1 },
    { r: 1, alpha: 1, a: 0.5, b: 0.5 }, // a + b = 1: for x = 0 the 2F1 has c = 0
  ];
  for (const params of sets) {
    for (const [x, T] of [[0, 0], [0, 30], [3, 38.86], [25, 40]] as const) {
      for (const t of [0.5, 39, 1000, 1e5]) {
        const closed = expectedPurchasesIfAlive(params, t, x, T);
        const numeric = expectedIfAliveByQuadrature(params, t, x, T);
        assert.ok(Math.abs(closed / numeric - 1) < 1e-9, `${JSON.stringify(params)} x=${x} T=${T} t=${t}: ${closed} vs ${numeric}`);
      }
    }
  }
});

test('P(alive), next-purchase interval and purchase probability are consistent', () => {
  const params: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
  assert.equal(pAlive(params, 0, 0, 30), 1);
  assert.ok(pAlive(params, 5, 10, 38) < pAlive(params, 5, 37, 38));
  // The median waiting time of an alive customer: P(no purchase in s | alive) = 1/2.
  // Even just after a purchase P(alive) < 1: the customer may have dropped out at that purchase.
  const alive = pAlive(params, 2, 30.43, 38.86);
  const s = nextPurchaseInterval(params, 2, 38.86);
  assert.ok(Math.abs(pPurchaseWithin(params, s, 2, 30.43, 38.86) - 0.5 * alive) < 1e-12);
  const q90 = nextPurchaseInterval(params, 2, 38.86, 0.9);
  assert.ok(Math.abs(pPurchaseWithin(params, q90, 2, 30.43, 38.86) - 0.9 * alive) < 1e-12);
  assert.ok(q90 > s);
  assert.throws(() => nextPurchaseInterval(params, 2, 38.86, 1), RangeError);
  assert.equal(expectedPurchases(params, 0, 2, 30.43, 38.86), 0);
});
