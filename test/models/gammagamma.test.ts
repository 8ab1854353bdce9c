import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  conditionalExpectedSpend,
  customerLifetimeValue,
  expectedPurchases,
  fitBgNbd,
  fitGammaGamma,
  gammaGammaCustomerLogLikelihood,
  simulateGammaGamma,
  summarizeTransactions,
  type GammaGammaParams,
} from '../../src/models/btyd/index.ts';
import { fitSpend, fitSpendAside } from '../../src/models/btyd/gammagamma-aside.ts';
import { cdnowSampleTransactions, cdnowSummary } from './btyd-data.ts';

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

test('Gamma-Gamma on the 946 CDNOW repeat customers reproduces Fader, Hardie & Lee (2005)', () => {
  const summary = summarizeTransactions(cdnowSampleTransactions(), '1997-09-30', 'weeks');
  const fit = fitGammaGamma(summary);
  assert.ok(fit.converged);
  assert.equal(fit.customers, 946);
  assert.deepEqual([round(fit.p, 2), round(fit.q, 2), round(fit.gamma, 2)], [6.25, 3.74, 15.44]);
  let ll = 0;
  for (let i = 0; i < summary.x.length; i++) {
    if (summary.x[i]! > 0) ll += gammaGammaCustomerLogLikelihood(fit, summary.x[i]!, summary.zbar[i]!);
  }
  assert.ok(Math.abs(ll - fit.logLikelihood) < 1e-8);
});

test('fitting simulated spend recovers the parameters', () => {
  const cases: GammaGammaParams[] = [
    { p: 6.25, q: 3.74, gamma: 15.44 },
    { p: 2, q: 5, gamma: 100 },
  ];
  for (const [k, truth] of cases.entries()) {
    const x = Float64Array.from({ length: 50_000 }, (_, i) => 1 + (i % 10));
    const zbar = simulateGammaGamma(truth, x, 3 + k);
    const fit = fitGammaGamma({ x, zbar });
    assert.ok(fit.converged);
    for (const key of ['p', 'q', 'gamma'] as const) {
      assert.ok(Math.abs(fit[key] / truth[key] - 1) < 0.05, `case ${k} ${key}: ${fit[key]} vs ${truth[key]}`);
    }
  }
});

test('expected spend shrinks the customer mean towards the population mean', () => {
  const params: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };
  const population = (params.p * params.gamma) / (params.q - 1);
  assert.ok(Math.abs(conditionalExpectedSpend(params, 0, 0) - population) < 1e-12);
  const one = conditionalExpectedSpend(params, 1, 100);
  const many = conditionalExpectedSpend(params, 50, 100);
  assert.ok(population < one && one < many && many < 100);
  assert.equal(conditionalExpectedSpend({ p: 1, q: 0.9, gamma: 1 }, 1, 10), Infinity);
});

test('customer lifetime value matches the lifetimes documentation example', () => {
  // lifetimes' README fits both models to this summary and prints
  // ggf.customer_lifetime_value(bgf, ..., time=12, discount_rate=0.01) with its default of 30 time
  // units per month (here weeks) for the first customers.
  const s = cdnowSummary();
  const bg = fitBgNbd({ x: s.x, tx: s.tx, T: s.T });
  const gg = fitGammaGamma({ x: s.x, zbar: s.zbar });
  const published = [140.096211, 18.943467, 38.180574, 38.180574, 38.180574, 1003.868107, 28.109683];
  published.forEach((value, i) => {
    const clv = customerLifetimeValue(bg, gg, s.x[i]!, s.tx[i]!, s.T[i]!, s.zbar[i]!, {
      periods: 12,
      periodLength: 30,
      discountRate: 0.01,
    });
    assert.ok(Math.abs(clv / value - 1) < 1e-5, `customer ${i + 1}: ${clv} vs ${value}`);
  });
  // Without discounting and with one period it is spend times expected purchases.
  const undiscounted = customerLifetimeValue(bg, gg, 2, 30.43, 38.86, 22.35, { periods: 1, periodLength: 39, discountRate: 0, margin: 0.5 });
  const direct = 0.5 * conditionalExpectedSpend(gg, 2, 22.35) * expectedPurchases(bg, 39, 2, 30.43, 38.86);
  assert.ok(Math.abs(undiscounted - direct) < 1e-12);
});

test('the fit on a thread of its own gives the fit on the calling thread, and its errors', async () => {
  const x = Float64Array.from({ length: 20_000 }, (_, i) => 1 + (i % 7));
  const zbar = simulateGammaGamma({ p: 6.25, q: 3.74, gamma: 15.44 }, x, 11);
  const aside = await fitSpendAside({ x, zbar }, { threadFrom: 0 });
  assert.deepEqual(aside, fitSpend({ x, zbar }));
  assert.ok(aside.converged);
  // No customer with a repeat purchase and spend: the thread's error, with its message.
  await assert.rejects(fitSpendAside({ x: Float64Array.of(0, 0), zbar: Float64Array.of(1, 2) }, { threadFrom: 0 }), /no customers with repeat purchases/);
});
