import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, minimize, simulateBgNbd } from '../../src/models/btyd/index.ts';

test('BFGS minimises the Rosenbrock function from the standard start', () => {
  const result = minimize(
    (x, g) => {
      const [a, b] = [x[0]!, x[1]!];
      g[0] = -400 * a * (b - a * a) - 2 * (1 - a);
      g[1] = 200 * (b - a * a);
      return 100 * (b - a * a) ** 2 + (1 - a) ** 2;
    },
    [-1.2, 1],
  );
  assert.ok(result.converged, result.message);
  assert.ok(Math.abs(result.x[0]! - 1) < 1e-6 && Math.abs(result.x[1]! - 1) < 1e-6);
  assert.ok(result.evaluations < 100, `${result.evaluations} evaluations`);
});

test('BFGS backs off where the objective is not finite', () => {
  // log-barrier: undefined for x <= 0, minimum at x = 1.
  const result = minimize((x, g) => {
    const v = x[0]!;
    g[0] = 1 - 1 / v;
    return v > 0 ? v - Math.log(v) : NaN;
  }, [8]);
  assert.ok(result.converged);
  assert.ok(Math.abs(result.x[0]! - 1) < 1e-8);
});

test('the random source is seeded and has the right moments', () => {
  const a = createRng(7);
  const b = createRng(7);
  for (let i = 0; i < 10; i++) assert.equal(a.uniform(), b.uniform());
  const rng = createRng(123);
  const n = 200_000;
  for (const [shape, rate] of [[0.25, 4], [3.7, 0.5]] as const) {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.gamma(shape, rate);
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    const variance = sq / n - mean * mean;
    assert.ok(Math.abs(mean / (shape / rate) - 1) < 0.02, `gamma(${shape}) mean ${mean}`);
    assert.ok(Math.abs(variance / (shape / rate ** 2) - 1) < 0.05, `gamma(${shape}) variance ${variance}`);
  }
  const one = simulateBgNbd({ r: 1, alpha: 2, a: 1, b: 3 }, { customers: 100, T: 10, seed: 3 });
  const two = simulateBgNbd({ r: 1, alpha: 2, a: 1, b: 3 }, { customers: 100, T: 10, seed: 3 });
  assert.deepEqual(one.x, two.x);
  assert.deepEqual(one.tx, two.tx);
  const daily = simulateBgNbd({ r: 1, alpha: 2, a: 1, b: 3 }, { customers: 100, T: { min: 5, max: 10 }, seed: 3, timeStep: 1 / 7 });
  for (let i = 0; i < 100; i++) {
    for (const v of [daily.T[i]!, daily.tx[i]!]) assert.ok(Math.abs(v * 7 - Math.round(v * 7)) < 1e-9, `${v} is not whole days`);
    assert.ok(daily.tx[i]! <= daily.T[i]!);
  }
});
