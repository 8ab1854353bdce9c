/**
 * Scoring customers with a fitted BG/NBD model (Fader, Hardie & Lee 2005): probability of being
 * alive, expected purchases over a horizon, and the waiting time to the next purchase.
 */
import type { BgNbdParams } from './bgnbd.ts';
import { hyp2f1 } from './special.ts';
import type { RfmData } from './rfm.ts';

/**
 * P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) (Fader, Hardie
 * & Lee, "Computing P(alive) using the BG/NBD model", 2008), computed from the log odds of having
 * dropped out so that the power cannot overflow.
 */
export function pAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  const logOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return 1 / (1 + Math.exp(logOdds));
}

// (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)], z = t/(alpha+T+t):
// the expected purchases in (T, T+t] of a customer known to be alive at T (eq. 10 without the
// P(alive) denominator). Euler's transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z)
// turns the bracketed product into (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): the untransformed
// 2F1 grows like (1-z)^-(r+x) and overflows for frequent buyers over long horizons, the
// transformed one stays near 1 (this is also what `lifetimes` falls back to on overflow).
function expectedIfAliveRaw(r: number, alpha: number, a: number, b: number, x: number, T: number, t: number): number {
  const z = t / (alpha + T + t);
  const c = a + b + x - 1;
  const q = Math.pow(1 - z, a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z);
  return (c / (a - 1)) * (1 - q);
}

const GAP = 1e-3;
const NODES = [-2, -1, 1, 2];

// f(v), or where v is within 1e-3 of a removable singularity `at`, the cubic Lagrange
// interpolation of f through at -/+ 1e-3 and at -/+ 2e-3 (f is smooth there; the closed form
// evaluated close to `at` would lose digits to cancellation).
function nearSingularity(v: number, at: number, f: (v: number) => number): number {
  if (Math.abs(v - at) >= GAP) return f(v);
  const u = (v - at) / GAP;
  let result = 0;
  for (const ni of NODES) {
    let weight = 1;
    for (const nj of NODES) if (nj !== ni) weight *= (u - nj) / (ni - nj);
    result += weight * f(at + ni * GAP);
  }
  return result;
}

/**
 * Expected purchases in the next t periods for a customer alive at age T with x repeat purchases.
 * The closed form is 0/0 at a = 1, and for x = 0 also at a + b = 1 (where the 2F1's third
 * parameter is 0); the expectation is smooth there and is interpolated across both points.
 */
export function expectedPurchasesIfAlive(params: BgNbdParams, t: number, x: number, T: number): number {
  const { r, alpha, a, b } = params;
  if (t <= 0) return 0;
  return nearSingularity(a, 1, (av) =>
    x === 0
      ? nearSingularity(b, 1 - av, (bv) => expectedIfAliveRaw(r, alpha, av, bv, x, T, t))
      : expectedIfAliveRaw(r, alpha, av, b, x, T, t),
  );
}

/** E[Y(t) | x, t_x, T]: expected purchases in the next t periods (eq. 10). */
export function expectedPurchases(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  return expectedPurchasesIfAlive(params, t, x, T) * pAlive(params, x, tx, T);
}

/** E[X(t)]: expected repeat purchases in the first t periods of a new customer (eq. 9). */
export function expectedPurchasesNew(params: BgNbdParams, t: number): number {
  return expectedPurchasesIfAlive(params, t, 0, 0);
}

/**
 * Waiting time from T until the next purchase of a customer who is alive, at the given quantile
 * (default 0.5: the median). Add it to the as-of date for an "expected next order date".
 *
 * Why the median of the waiting time: given alive, the posterior rate is Gamma(r+x, alpha+T)
 * and, because dropout only happens right after a purchase, the next purchase is certain. So
 * P(no purchase in s) = ((alpha+T)/(alpha+T+s))^(r+x), a Lomax distribution, whose quantiles are
 * closed-form. Its mean, (alpha+T)/(r+x-1), is infinite when r+x <= 1 (common for r < 1 and
 * x = 0), and 1/E[rate] ignores the uncertainty in the rate, so the median is the robust choice.
 * Combine with {@link pAlive} (or use {@link pPurchaseWithin}) for customers who may have left.
 */
export function nextPurchaseInterval(params: BgNbdParams, x: number, T: number, quantile = 0.5): number {
  if (!(quantile > 0 && quantile < 1)) throw new RangeError('quantile must be in (0, 1)');
  const { r, alpha } = params;
  return (alpha + T) * Math.expm1(-Math.log1p(-quantile) / (r + x));
}

/** Probability of at least one purchase in the next s periods: P(alive) * (1 - Lomax survival). */
export function pPurchaseWithin(params: BgNbdParams, s: number, x: number, tx: number, T: number): number {
  const { r, alpha } = params;
  const none = Math.exp((r + x) * (Math.log(alpha + T) - Math.log(alpha + T + s)));
  return pAlive(params, x, tx, T) * (1 - none);
}

/** Per-customer scores of {@link scoreBgNbd}. */
export interface BgNbdScores {
  pAlive: Float64Array;
  expectedPurchases: Float64Array;
}

/** Scores every customer: P(alive) and expected purchases over the next t periods. */
export function scoreBgNbd(params: BgNbdParams, data: RfmData, t: number): BgNbdScores {
  const n = data.x.length;
  const alive = new Float64Array(n);
  const expected = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = data.x[i]!;
    const T = data.T[i]!;
    const p = pAlive(params, x, data.tx[i]!, T);
    alive[i] = p;
    expected[i] = p * expectedPurchasesIfAlive(params, t, x, T);
  }
  return { pAlive: alive, expectedPurchases: expected };
}
