/**
 * Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: Using
 * Iso-Value Curves for Customer Base Analysis", JMR 42(4); Fader & Hardie 2013, "The Gamma-Gamma
 * Model of Monetary Value"). Each transaction value is Gamma(p, nu) with nu ~ Gamma(q, gamma)
 * across customers, so the mean zbar of x transactions is Gamma(px, x nu) given nu.
 */
import { digamma, lgamma } from './special.ts';
import { minimize } from './optimize.ts';
import type { BgNbdParams } from './bgnbd.ts';
import { expectedPurchases } from './bgnbd-score.ts';

/** Gamma-Gamma parameters; gamma is in currency units. */
export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

/** Result of {@link fitGammaGamma}. */
export interface GammaGammaFit extends GammaGammaParams {
  logLikelihood: number;
  /** Number of customers (x >= 1, zbar > 0) the fit used. */
  customers: number;
  iterations: number;
  converged: boolean;
}

/** Per-customer repeat frequency and mean repeat spend; rows with x = 0 are ignored. */
export interface SpendData {
  x: ArrayLike<number>;
  zbar: ArrayLike<number>;
}

/** Options for {@link fitGammaGamma}. */
export interface GammaGammaFitOptions {
  initial?: GammaGammaParams;
  /** L2 penalty on the parameters, added to the mean negative log-likelihood as in `lifetimes`. */
  penalizer?: number;
  maxIterations?: number;
}

/**
 * Log density of zbar given x (Fader & Hardie 2013):
 * lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(zbar) + px ln(x) - (px+q) ln(gamma + x zbar).
 */
export function gammaGammaCustomerLogLikelihood(params: GammaGammaParams, x: number, zbar: number): number {
  const { p, q, gamma } = params;
  const px = p * x;
  return (
    lgamma(px + q) - lgamma(px) - lgamma(q) + q * Math.log(gamma) +
    (px - 1) * Math.log(zbar) + px * Math.log(x) - (px + q) * Math.log(gamma + x * zbar)
  );
}

/**
 * Maximum-likelihood fit on customers with x >= 1 and zbar > 0, on the log scale by BFGS with
 * the analytic gradient. Digamma and log-gamma terms are computed once per distinct x.
 */
export function fitGammaGamma(data: SpendData, options: GammaGammaFitOptions = {}): GammaGammaFit {
  let n = 0;
  for (let i = 0; i < data.x.length; i++) if (data.x[i]! >= 1 && data.zbar[i]! > 0) n++;
  if (n === 0) throw new RangeError('no customers with repeat purchases to fit');
  const x = new Float64Array(n);
  const zbar = new Float64Array(n);
  for (let i = 0, k = 0; i < data.x.length; i++) {
    if (data.x[i]! >= 1 && data.zbar[i]! > 0) {
      x[k] = data.x[i]!;
      zbar[k++] = data.zbar[i]!;
    }
  }
  const uniqueX = Float64Array.from(new Set(x)).sort();
  const position = new Map<number, number>();
  uniqueX.forEach((v, j) => position.set(v, j));
  const countByX = new Float64Array(uniqueX.length);
  for (let i = 0; i < n; i++) countByX[position.get(x[i]!)!]! += 1;
  // Parameter-free parts: sum of (px - 1) ln zbar + px ln x is p * S1 - S2.
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const lz = Math.log(zbar[i]!);
    s1 += x[i]! * (lz + Math.log(x[i]!));
    s2 += lz;
  }
  const logLik = (lp: Float64Array, grad: Float64Array): number => {
    const p = Math.exp(lp[0]!);
    const q = Math.exp(lp[1]!);
    const g = Math.exp(lp[2]!);
    let ll = n * (q * lp[2]! - lgamma(q)) + p * s1 - s2;
    let dp = p * s1;
    let dq = n * q * (lp[2]! - digamma(q));
    let dg = n * q;
    for (let j = 0; j < uniqueX.length; j++) {
      const X = uniqueX[j]!;
      const c = countByX[j]!;
      const dgPxq = digamma(p * X + q);
      ll += c * (lgamma(p * X + q) - lgamma(p * X));
      dp += c * p * X * (dgPxq - digamma(p * X));
      dq += c * q * dgPxq;
    }
    for (let i = 0; i < n; i++) {
      const X = x[i]!;
      const s = g + X * zbar[i]!;
      const ls = Math.log(s);
      const m = p * X + q;
      ll -= m * ls;
      dp -= p * X * ls;
      dq -= q * ls;
      dg -= (m * g) / s;
    }
    grad[0] = dp;
    grad[1] = dq;
    grad[2] = dg;
    return ll;
  };
  const penalizer = options.penalizer ?? 0;
  const init = options.initial ?? { p: 1, q: 1, gamma: 1 };
  const result = minimize(
    (lp, grad) => {
      let f = -logLik(lp, grad) / n;
      for (let i = 0; i < 3; i++) {
        const theta = Math.exp(lp[i]!);
        grad[i] = -grad[i]! / n + 2 * penalizer * theta * theta;
        f += penalizer * theta * theta;
      }
      return Number.isFinite(f) ? f : NaN;
    },
    [Math.log(init.p), Math.log(init.q), Math.log(init.gamma)],
    { maxIterations: options.maxIterations ?? 500 },
  );
  const [p, q, gamma] = Array.from(result.x, Math.exp) as [number, number, number];
  return {
    p,
    q,
    gamma,
    logLikelihood: logLik(result.x, new Float64Array(3)),
    customers: n,
    iterations: result.iterations,
    converged: result.converged,
  };
}

/**
 * E[M | x, zbar] = (p (gamma + x zbar)) / (p x + q - 1): a weighted average of the population
 * mean p gamma / (q - 1) and the customer's own mean zbar (Fader, Hardie & Lee 2005).
 * For x = 0 it is the population mean. Requires q > 1 (otherwise the mean spend is infinite).
 */
export function conditionalExpectedSpend(params: GammaGammaParams, x: number, zbar: number): number {
  const { p, q, gamma } = params;
  if (q <= 1) return Infinity;
  return (p * (gamma + x * zbar)) / (p * x + q - 1);
}

/** Options for {@link customerLifetimeValue}. */
export interface ClvOptions {
  /** Number of discounting periods in the horizon (e.g. 12 months). */
  periods: number;
  /** Length of one period in the BG/NBD time unit (e.g. 4.345 weeks or 30 days for a month). */
  periodLength: number;
  /** Discount rate per period (e.g. 0.01 a month). */
  discountRate: number;
  /** Fraction of spend kept as margin (default 1). */
  margin?: number;
}

/**
 * Discounted expected value of a customer's purchases over the horizon, as `lifetimes`'
 * customer_lifetime_value: sum over periods i = 1..n of
 * spend * (E[Y(i L)] - E[Y((i-1) L)]) / (1 + d)^i, with E[Y] from BG/NBD and spend from
 * {@link conditionalExpectedSpend}. Discounting each period's increment, rather than the total,
 * values purchases expected later less.
 */
export function customerLifetimeValue(
  bgnbd: BgNbdParams,
  spend: GammaGammaParams,
  x: number,
  tx: number,
  T: number,
  zbar: number,
  options: ClvOptions,
): number {
  const { periods, periodLength, discountRate } = options;
  const value = conditionalExpectedSpend(spend, x, zbar) * (options.margin ?? 1);
  let clv = 0;
  let previous = 0;
  for (let i = 1; i <= periods; i++) {
    const cumulative = expectedPurchases(bgnbd, i * periodLength, x, tx, T);
    clv += (value * (cumulative - previous)) / Math.pow(1 + discountRate, i);
    previous = cumulative;
  }
  return clv;
}
