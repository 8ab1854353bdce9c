import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alwaysValidPValue, armStats, compareWithControl, decideWinner, msprtStatistic, newcombeInterval, normalCdf, normalQuantile,
  twoProportionZTest, wilsonInterval, WINNER_RULE, type Observation,
} from '../../src/journeys/ab-stats.ts';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test('the normal distribution and its quantiles against tabulated values', () => {
  close(normalCdf(0), 0.5, 1e-7, 'Φ(0)');
  close(normalCdf(1.959964), 0.975, 1e-6, 'Φ(1.959964)');
  close(normalCdf(-2.575829), 0.005, 1e-6, 'Φ(−2.575829)');
  close(normalQuantile(0.975), 1.959964, 1e-6, 'Φ⁻¹(0.975)');
  close(normalQuantile(0.995), 2.575829, 1e-6, 'Φ⁻¹(0.995)');
  close(normalQuantile(0.025), -1.959964, 1e-6, 'Φ⁻¹(0.025)');
  close(normalQuantile(1e-6), -4.753424, 1e-5, 'Φ⁻¹(1e-6)');
  assert.throws(() => normalQuantile(1), RangeError);
});

test("Wilson intervals reproduce Newcombe (1998a)'s worked examples", () => {
  // Stat. Med. 17:857–872, Table II, method 3 (score interval without continuity correction).
  for (const [x, n, lo, hi] of [[81, 263, 0.2553, 0.3662], [15, 148, 0.0624, 0.1605], [0, 20, 0, 0.1611], [1, 29, 0.0061, 0.1718]] as const) {
    const [l, u] = wilsonInterval(x, n);
    close(l, lo, 5e-5, `lower bound of ${x}/${n}`);
    close(u, hi, 5e-5, `upper bound of ${x}/${n}`);
  }
  assert.deepEqual(wilsonInterval(0, 0), [0, 1], 'no data: anything is possible');
});

test("Newcombe's hybrid score interval reproduces Newcombe (1998b)'s worked examples", () => {
  // Stat. Med. 17:873–890, Table II, method 10.
  const examples = [
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [10, 10, 0, 10, 0.6075, 1],
  ] as const;
  for (const [x1, n1, x2, n2, lo, hi] of examples) {
    const r = newcombeInterval(x1, n1, x2, n2);
    close(r.difference, x1 / n1 - x2 / n2, 1e-12, 'the difference');
    close(r.lower, lo, 5e-5, `lower bound of ${x1}/${n1} − ${x2}/${n2}`);
    close(r.upper, hi, 5e-5, `upper bound of ${x1}/${n1} − ${x2}/${n2}`);
    // Swapping the arms mirrors the interval.
    const swapped = newcombeInterval(x2, n2, x1, n1);
    close(swapped.lower, -r.upper, 1e-12, 'mirrored lower');
    close(swapped.upper, -r.lower, 1e-12, 'mirrored upper');
  }
});

test('the two-proportion z-test squares to Pearson’s χ² of the 2×2 table', () => {
  const pearson = (a: number, n1: number, c: number, n2: number) => {
    const b = n1 - a;
    const d = n2 - c;
    const n = n1 + n2;
    return (n * (a * d - b * c) ** 2) / ((a + b) * (c + d) * (a + c) * (b + d));
  };
  for (const [x1, n1, x2, n2] of [[56, 70, 48, 80], [12, 400, 25, 410], [30, 100, 30, 100], [3, 50, 11, 45]] as const) {
    const { z } = twoProportionZTest(x1, n1, x2, n2);
    close(z * z, pearson(x1, n1, x2, n2), 1e-9, `z² for ${x1}/${n1} vs ${x2}/${n2}`);
  }
  // χ² = 7.0234 on one degree of freedom: p = 0.00805 (tables).
  close(twoProportionZTest(56, 70, 48, 80).pValue, 0.00805, 5e-5, 'p-value');
  assert.equal(twoProportionZTest(30, 100, 30, 100).pValue, 1);
  assert.deepEqual(twoProportionZTest(0, 10, 0, 10), { z: 0, pValue: 1 }, 'no conversions anywhere: no evidence');
});

test('the mSPRT statistic by hand', () => {
  // 40/100 against 10/100, τ = 0.05: pooled 0.25, V = 0.1875 · 0.02 = 0.00375,
  // Λ = √(0.00375 / 0.00625) · exp(0.0025 · 0.09 / (2 · 0.00375 · 0.00625)) = √0.6 · e^4.8.
  close(msprtStatistic(40, 100, 10, 100, 0.05), Math.sqrt(0.6) * Math.exp(4.8), 1e-9, 'Λ');
  assert.ok(msprtStatistic(10, 100, 10, 100, 0.05) < 1, 'no difference: evidence below 1');
  assert.equal(msprtStatistic(0, 100, 0, 100, 0.05), 1);
});

/** A small deterministic generator (mulberry32) so the simulated experiments are the same every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('under continuous monitoring the always-valid p-value keeps its α; peeking at a z-test does not', () => {
  // 300 A/A tests (both arms convert 10%), 2,000 units each, looked at after every unit.
  const rnd = random(7);
  let sequential = 0;
  let peeking = 0;
  const experiments = 300;
  for (let e = 0; e < experiments; e++) {
    const obs: Observation[] = [];
    const n = [0, 0];
    const x = [0, 0];
    let peekHit = false;
    for (let i = 0; i < 2000; i++) {
      const arm = rnd() < 0.5 ? 0 : 1;
      const converted = rnd() < 0.1;
      obs.push({ arm, converted });
      n[arm]!++;
      if (converted) x[arm]!++;
      if (!peekHit && n[0]! >= 100 && n[1]! >= 100 && twoProportionZTest(x[0]!, n[0]!, x[1]!, n[1]!).pValue < 0.05) peekHit = true;
    }
    if (peekHit) peeking++;
    if (alwaysValidPValue(obs, 0, 1) < 0.05) sequential++;
  }
  assert.ok(sequential / experiments <= 0.05, `the mSPRT declared ${sequential} of ${experiments} A/A tests`);
  assert.ok(peeking / experiments >= 0.15, `peeking at the z-test declared only ${peeking} of ${experiments}: the comparison shows nothing`);
});

/** Observations for arms with the given units and conversions, interleaved as they would arrive. */
function interleaved(arms: [number, number][]): Observation[] {
  const out: Observation[] = [];
  const longest = Math.max(...arms.map(([n]) => n));
  for (let i = 0; i < longest; i++) {
    arms.forEach(([n, x], arm) => {
      // Conversions spread evenly through the arm's units.
      if (i < n) out.push({ arm, converted: Math.floor(((i + 1) * x) / n) > Math.floor((i * x) / n) });
    });
  }
  return out;
}

test('the winner rule: minimum counts, then the always-valid test with Bonferroni over pairs', () => {
  const decide = (counts: [number, number][], names = ['A', 'B', 'C']) => {
    const arms = counts.map(([n, x], i) => armStats(names[i]!, n, x));
    return decideWinner(arms, interleaved(counts), 'sends');
  };
  assert.deepEqual(decide([[150, 15], [43, 20]]), {
    winner: null, reason: 'no winner yet: B has 43 of the 100 measured sends the rule needs in every arm',
  });
  assert.deepEqual(decide([[200, 3], [200, 40]]), {
    winner: null, reason: 'no winner yet: A has 3 of the 5 conversions the rule needs in every arm',
  });
  const clear = decide([[100, 10], [100, 40]]);
  assert.equal(clear.winner, 'B');
  assert.match(clear.reason, /^B wins: B converts 40\.0% of 100 sends, A 10\.0% of 100; the always-valid p-value against A is .*, below 0\.05$/);
  const control = decide([[100, 40], [100, 10]]);
  assert.equal(control.winner, 'A', 'the control can win too');

  const close12 = decide([[500, 50], [500, 60]]);
  assert.equal(close12.winner, null);
  assert.match(close12.reason, /^no winner yet: B converts 12\.0% of 500 sends, A 10\.0% of 500; the always-valid p-value [\d.]+ must fall below 0\.05$/);
  // The price of being allowed to look every day: at 5,000 a side a fixed-horizon z-test says
  // p = 0.0014, but the always-valid p-value is still about 0.05; at 10,000 a side the rule calls it.
  assert.ok(twoProportionZTest(600, 5000, 500, 5000).pValue < 0.002);
  assert.equal(decide([[5000, 500], [5000, 600]]).winner, null);
  assert.equal(decide([[10000, 1000], [10000, 1200]]).winner, 'B');

  // Three arms: three pairs, each tested at 0.05 / 3; B beats A clearly but not C.
  const three = decide([[300, 30], [300, 75], [300, 66]]);
  assert.equal(three.winner, null);
  assert.match(three.reason, /B converts 25\.0% of 300 sends, C 22\.0% of 300; the always-valid p-value [\d.]+ must fall below 0\.05 \/ 3 comparisons = 0\.017$/);
  assert.equal(decide([[300, 30], [300, 90], [300, 35]]).winner, 'B');
});

test('uplift against the control with its interval', () => {
  const arms = [armStats('A', 200, 20), armStats('B', 200, 30), armStats('C', 200, 0)];
  const [b, c] = compareWithControl(arms, interleaved([[200, 20], [200, 30], [200, 0]]));
  assert.equal(b!.arm, 'B');
  assert.equal(b!.control, 'A');
  close(b!.difference, 0.05, 1e-12, 'difference');
  close(b!.relativeUplift!, 0.5, 1e-12, 'relative uplift');
  const expected = newcombeInterval(30, 200, 20, 200);
  assert.deepEqual(b!.ci, [expected.lower, expected.upper]);
  assert.ok(b!.ci[0] < 0 && b!.ci[1] > 0.05, 'a 5-point difference on 200 a side is not yet clear');
  close(b!.pValue, twoProportionZTest(30, 200, 20, 200).pValue, 1e-12, 'p-value');
  assert.equal(c!.alwaysValidP, 1, 'C never reached the minimum conversions');
  assert.equal(compareWithControl([armStats('A', 100, 0), armStats('B', 100, 5)], [])[0]!.relativeUplift, null, 'no relative uplift over a zero rate');
  assert.equal(WINNER_RULE.alpha, 0.05);
});
