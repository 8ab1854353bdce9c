/**
 * The statistics of A/B tests and holdout groups: pure functions of counts, no database.
 *
 * - A conversion rate's interval is Wilson's score interval (Wilson 1927), which keeps its
 *   coverage near the nominal level for small counts and rates near 0, where the textbook
 *   p ± z·√(p(1−p)/n) interval collapses to a point (Newcombe 1998a, "Two-sided confidence
 *   intervals for the single proportion: comparison of seven methods", Stat. Med. 17:857–872).
 * - The interval for a difference of two independent rates is Newcombe's hybrid score interval
 *   (method 10 of Newcombe 1998b, "Interval estimation for the difference between independent
 *   proportions: comparison of eleven methods", Stat. Med. 17:873–890): built from the two Wilson
 *   intervals, it has close to nominal coverage even with zero conversions in an arm.
 * - The automatic winner is decided by a sequential test that stays valid while people look at
 *   the results every day: the mixture sequential probability ratio test (mSPRT) of Johari,
 *   Koomen, Pekelis and Walsh ("Always valid inference: continuous monitoring of A/B tests",
 *   Operations Research 70(3), 2022; KDD 2017 "Peeking at A/B tests"). A fixed-horizon z-test
 *   checked after every new send declares a false winner far more often than its α says (the
 *   test in test/journeys/ab-stats.test.ts measures it); the mSPRT's always-valid p-value does not.
 * The exact rule is WINNER_RULE below and docs/experiments.md.
 */

/** The standard normal distribution function Φ(z). */
export function normalCdf(z: number): number {
  return z >= 0 ? 1 - 0.5 * erfc(z / Math.SQRT2) : 0.5 * erfc(-z / Math.SQRT2);
}

/**
 * erfc(x) for x ≥ 0 by the Chebyshev fit of Numerical Recipes (2nd ed., §6.2): fractional error
 * below 1.2e-7 everywhere, ample for p-values and interval bounds reported to four places.
 */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const y = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return y;
}

/**
 * The quantile function Φ⁻¹(p), by Acklam's rational approximation (relative error below
 * 1.2e-9) followed by one Halley step on Φ.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`a probability strictly between 0 and 1, not ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Wilson's score interval for x successes in n trials; [0, 1] when n is 0. */
export function wilsonInterval(x: number, n: number, confidence = 0.95): [number, number] {
  if (n === 0) return [0, 1];
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const z2 = z * z;
  const p = x / n;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Clamp the rounding dust at the ends (0 of n and n of n).
  return [Math.max(0, x === 0 ? 0 : centre - half), Math.min(1, x === n ? 1 : centre + half)];
}

/**
 * Newcombe's hybrid score interval (1998b, method 10) for p1 − p2, where p1 = x1/n1 and
 * p2 = x2/n2 are independent: (d − δ, d + ε) with δ = √((p1 − l1)² + (u2 − p2)²) and
 * ε = √((u1 − p1)² + (p2 − l2)²), (l, u) being the Wilson intervals.
 */
export function newcombeInterval(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): { difference: number; lower: number; upper: number } {
  const p1 = n1 === 0 ? 0 : x1 / n1;
  const p2 = n2 === 0 ? 0 : x2 / n2;
  const [l1, u1] = wilsonInterval(x1, n1, confidence);
  const [l2, u2] = wilsonInterval(x2, n2, confidence);
  const d = p1 - p2;
  return { difference: d, lower: d - Math.hypot(p1 - l1, u2 - p2), upper: d + Math.hypot(u1 - p1, p2 - l2) };
}

/**
 * The two-sided two-proportion z-test with the pooled variance (equal to Pearson's χ² test of the
 * 2×2 table without continuity correction: z² = χ²). A fixed-horizon test, reported for
 * reference; the winner rule does not use it (see alwaysValidPValue).
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): { z: number; pValue: number } {
  if (n1 === 0 || n2 === 0) return { z: 0, pValue: 1 };
  const pooled = (x1 + x2) / (n1 + n2);
  const variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  if (variance === 0) return { z: 0, pValue: 1 };
  const z = (x1 / n1 - x2 / n2) / Math.sqrt(variance);
  return { z, pValue: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))) };
}

/** The rule that names a winner; see docs/experiments.md, where it is stated in words. */
export type WinnerRule = {
  /** Each arm needs at least this many measured units (sends or entries whose window closed). */
  minUnits: number;
  /** … and at least this many conversions (the normal approximation needs a few). */
  minConversions: number;
  /** The family-wise error rate, split evenly over the pairwise comparisons (Bonferroni). */
  alpha: number;
  /** The standard deviation of the mSPRT's normal mixture over the true difference (absolute). */
  tau: number;
};
export const WINNER_RULE: WinnerRule = { minUnits: 100, minConversions: 5, alpha: 0.05, tau: 0.05 };

/**
 * The mSPRT statistic for the difference of two rates (Johari et al. 2022, §4, with the normal
 * mixture θ ~ N(0, τ²)): Λ = √(V/(V+τ²)) · exp(τ²·d² / (2V(V+τ²))), where d is the observed
 * difference and V its variance under "no difference" (pooled rate). Under the null hypothesis Λ
 * is (approximately, with V estimated) a martingale with mean 1, so by Ville's inequality the
 * chance that it ever exceeds 1/α is at most α, however often it is looked at.
 */
export function msprtStatistic(x1: number, n1: number, x2: number, n2: number, tau: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  const pooled = (x1 + x2) / (n1 + n2);
  const v = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  if (v === 0) return 1;
  const d = x1 / n1 - x2 / n2;
  const t2 = tau * tau;
  return Math.sqrt(v / (v + t2)) * Math.exp((t2 * d * d) / (2 * v * (v + t2)));
}

/** One unit of an experiment, in the order its outcome became final (its conversion window closed). */
export type Observation = { arm: number; converted: boolean };

/**
 * The always-valid p-value of "arms a and b convert alike": 1 / the largest mSPRT statistic seen
 * over the sequence of outcomes, counting only the moments when both arms met the rule's
 * minimum counts (looking less often never breaks the guarantee). Recomputing it from the whole
 * history on every request is what makes continuous monitoring safe: the p-value can only fall.
 */
export function alwaysValidPValue(observations: readonly Observation[], a: number, b: number, rule: WinnerRule = WINNER_RULE): number {
  let na = 0, xa = 0, nb = 0, xb = 0, best = 1;
  for (const o of observations) {
    if (o.arm === a) {
      na++;
      if (o.converted) xa++;
    } else if (o.arm === b) {
      nb++;
      if (o.converted) xb++;
    } else continue;
    if (na < rule.minUnits || nb < rule.minUnits || xa < rule.minConversions || xb < rule.minConversions) continue;
    best = Math.max(best, msprtStatistic(xa, na, xb, nb, rule.tau));
  }
  return Math.min(1, 1 / best);
}

export type ArmStats = { name: string; units: number; conversions: number; rate: number; ci: [number, number] };
export type Comparison = {
  /** The arm compared with the control (the first arm). */
  arm: string;
  control: string;
  /** Absolute difference of the rates (arm − control) with its 95% Newcombe interval. */
  difference: number;
  ci: [number, number];
  /** (arm − control) / control; null when the control converted nobody. */
  relativeUplift: number | null;
  /** The fixed-horizon two-sided z-test's p-value (for reference only: it assumes no peeking). */
  pValue: number;
  /** The always-valid (mSPRT) p-value that the winner rule uses. */
  alwaysValidP: number;
};
export type WinnerDecision = { winner: string | null; reason: string };

/** An arm's rate and its 95% Wilson interval. */
export function armStats(name: string, units: number, conversions: number): ArmStats {
  return { name, units, conversions, rate: units === 0 ? 0 : conversions / units, ci: wilsonInterval(conversions, units) };
}

/** Each arm after the first against the first (the control), with 95% intervals. */
export function compareWithControl(arms: readonly ArmStats[], observations: readonly Observation[], rule: WinnerRule = WINNER_RULE): Comparison[] {
  const control = arms[0];
  if (!control) return [];
  return arms.slice(1).map((arm, i) => {
    const ci = newcombeInterval(arm.conversions, arm.units, control.conversions, control.units);
    return {
      arm: arm.name, control: control.name, difference: ci.difference, ci: [ci.lower, ci.upper],
      relativeUplift: control.rate === 0 ? null : (arm.rate - control.rate) / control.rate,
      pValue: twoProportionZTest(arm.conversions, arm.units, control.conversions, control.units).pValue,
      alwaysValidP: alwaysValidPValue(observations, i + 1, 0, rule),
    };
  });
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pval = (p: number) => (p < 0.0001 ? '< 0.0001' : p.toPrecision(2));

/**
 * The winner rule. An arm wins when (1) every arm has at least `minUnits` measured units and
 * `minConversions` conversions, and (2) against every other arm, its rate is higher and the
 * always-valid p-value is below α / m, where m = k(k−1)/2 is the number of pairs among k arms
 * (Bonferroni). Otherwise there is no winner, and the reason says what is missing.
 * `unit` names what is counted ("sends", "entries").
 */
export function decideWinner(arms: readonly ArmStats[], observations: readonly Observation[], unit: string, rule: WinnerRule = WINNER_RULE): WinnerDecision {
  if (arms.length < 2) return { winner: null, reason: `no winner: an experiment needs at least two arms` };
  const short = [...arms].sort((a, b) => a.units - b.units)[0]!;
  if (short.units < rule.minUnits) {
    return { winner: null, reason: `no winner yet: ${short.name} has ${short.units} of the ${rule.minUnits} measured ${unit} the rule needs in every arm` };
  }
  const few = [...arms].sort((a, b) => a.conversions - b.conversions)[0]!;
  if (few.conversions < rule.minConversions) {
    return { winner: null, reason: `no winner yet: ${few.name} has ${few.conversions} of the ${rule.minConversions} conversions the rule needs in every arm` };
  }
  const m = (arms.length * (arms.length - 1)) / 2;
  const level = rule.alpha / m;
  const levelText = m === 1 ? `${rule.alpha}` : `${rule.alpha} / ${m} comparisons = ${level.toPrecision(2)}`;
  const order = arms.map((a, i) => i).sort((i, j) => arms[j]!.rate - arms[i]!.rate);
  const top = order[0]!;
  const leader = arms[top]!;
  // The leader's weakest evidence: the largest always-valid p-value against any other arm.
  let worst = { p: 0, other: order[1]! };
  for (const j of order.slice(1)) {
    const p = arms[j]!.rate === leader.rate ? 1 : alwaysValidPValue(observations, top, j, rule);
    if (p >= worst.p) worst = { p, other: j };
  }
  const other = arms[worst.other]!;
  const rates = `${leader.name} converts ${pct(leader.rate)} of ${leader.units} ${unit}, ${other.name} ${pct(other.rate)} of ${other.units}`;
  if (worst.p < level) {
    const against = arms.length === 2 ? other.name : `every other arm (weakest: ${other.name})`;
    return { winner: leader.name, reason: `${leader.name} wins: ${rates}; the always-valid p-value against ${against} is ${pval(worst.p)}, below ${levelText}` };
  }
  return { winner: null, reason: `no winner yet: ${rates}; the always-valid p-value ${pval(worst.p)} must fall below ${levelText}` };
}
