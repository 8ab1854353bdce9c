import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bgBbCustomerLogLikelihood,
  bgBbExpectedTransactions,
  bgBbPAlive,
  fitBgBb,
  simulateBgBb,
  type BgBbParams,
} from '../../src/models/btyd/index.ts';
import { donations } from './btyd-data.ts';

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

test('BG/BB on the donations data reproduces Fader, Hardie & Shang (2010)', () => {
  const fit = fitBgBb(donations());
  assert.ok(fit.converged);
  assert.deepEqual(
    [fit.alpha, fit.beta, fit.gamma, fit.delta].map((v) => round(v, 3)),
    [1.204, 0.75, 0.657, 2.783],
  );
  assert.equal(round(fit.logLikelihood, 1), -33225.6);
});

test('BG/BB likelihood sums to one over all histories', () => {
  // Over n opportunities, the (x, t_x) patterns partition all outcomes; each pattern stands for
  // C(t_x - 1, x - 1) orderings of the transactions before the last one.
  const params: BgBbParams = { alpha: 1.3, beta: 0.8, gamma: 0.7, delta: 2.5 };
  const n = 5;
  const choose = (k: number, j: number): number => (j < 0 || j > k ? 0 : j === 0 || j === k ? 1 : choose(k - 1, j - 1) + choose(k - 1, j));
  let total = Math.exp(bgBbCustomerLogLikelihood(params, 0, 0, n));
  for (let tx = 1; tx <= n; tx++) {
    for (let x = 1; x <= tx; x++) total += choose(tx - 1, x - 1) * Math.exp(bgBbCustomerLogLikelihood(params, x, tx, n));
  }
  assert.ok(Math.abs(total - 1) < 1e-12, `total ${total}`);
});

test('BG/BB expectations and P(alive) agree with simulation', () => {
  const truth: BgBbParams = { alpha: 1.204, beta: 0.75, gamma: 0.657, delta: 2.783 };
  const customers = 200_000;
  // A new customer's transactions over 6 opportunities.
  const sim = simulateBgBb(truth, { customers, n: 6, seed: 9 });
  const mean = sim.x.reduce((s, v) => s + v, 0) / customers;
  const expected = bgBbExpectedTransactions(truth, 6, 0, 0, 0);
  assert.ok(Math.abs(mean / expected - 1) < 0.01, `${mean} vs ${expected}`);
  // Calibration of P(alive at n + 1): average over customers vs the simulated truth.
  let predicted = 0;
  let actual = 0;
  for (let i = 0; i < customers; i++) {
    predicted += bgBbPAlive(truth, sim.x[i]!, sim.tx[i]!, 6);
    actual += sim.alive[i]! * (1 - sim.theta[i]!);
  }
  assert.ok(Math.abs(predicted / actual - 1) < 0.01, `${predicted / customers} vs ${actual / customers}`);
  // Recovery of the parameters from the simulated histories.
  const fit = fitBgBb({ x: sim.x, tx: sim.tx, n: sim.n });
  for (const key of ['alpha', 'beta', 'gamma', 'delta'] as const) {
    assert.ok(Math.abs(fit[key] / truth[key] - 1) < 0.1, `${key}: ${fit[key]} vs ${truth[key]}`);
  }
  // gamma = 1 is a removable singularity of the closed form.
  const near = bgBbExpectedTransactions({ ...truth, gamma: 1 + 1e-9 }, 5, 2, 4, 6);
  const around = (bgBbExpectedTransactions({ ...truth, gamma: 0.99 }, 5, 2, 4, 6) + bgBbExpectedTransactions({ ...truth, gamma: 1.01 }, 5, 2, 4, 6)) / 2;
  assert.ok(Math.abs(near / around - 1) < 1e-3);
});
