/**
 * BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy
 * Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284).
 *
 * While alive, a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each repeat
 * purchase they drop out with probability p ~ Beta(a, b). Equation numbers refer to the paper.
 * This file holds the likelihood and its maximum-likelihood fit; scoring is in bgnbd-score.ts.
 */
import { digamma, lgamma } from './special.ts';
import { minimize } from './optimize.ts';
import { asCompressed, type CompressedRfm, type RfmData } from './rfm.ts';

/** BG/NBD parameters; alpha is in the time unit of the data (e.g. weeks). */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** Result of {@link fitBgNbd}. */
export interface BgNbdFit extends BgNbdParams {
  /** Total (weighted) log-likelihood at the estimate, without any penalty. */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
}

/** Options for {@link fitBgNbd}. */
export interface BgNbdFitOptions {
  /** Starting values (default: r = 1, alpha = 1 / purchase rate, a = b = 1). */
  initial?: BgNbdParams;
  /** L2 penalty on the parameters, added to the mean negative log-likelihood as in `lifetimes`. */
  penalizer?: number;
  maxIterations?: number;
  /** Convergence threshold on the gradient of the mean log-likelihood (default 1e-9). */
  gradientTolerance?: number;
}

/** Log-likelihood of one customer (eq. 6), in log space. Simple reference implementation. */
export function bgNbdCustomerLogLikelihood(params: BgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = params;
  const common =
    lgamma(r + x) - lgamma(r) + r * Math.log(alpha) +
    lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
  const a3 = -(r + x) * Math.log(alpha + T);
  if (x === 0) return common + a3;
  const a4 = Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx);
  return common + logAddExp(a3, a4);
}

function logAddExp(u: number, v: number): number {
  return u > v ? u + Math.log1p(Math.exp(v - u)) : v + Math.log1p(Math.exp(u - v));
}

/**
 * Builds the objective used by the fit: for log-parameters (log r, log alpha, log a, log b) it
 * returns the total log-likelihood and writes its analytic gradient into `grad`.
 *
 * Per customer, LL = A1 + A2 + log(exp(A3) + [x > 0] exp(A4)) with
 *   A1 = lnG(r+x) - lnG(r) + r ln(alpha),  A2 = ln B(a, b+x) - ln B(a, b),
 *   A3 = -(r+x) ln(alpha+T),  A4 = ln a - ln(b+x-1) - (r+x) ln(alpha+t_x).
 * A1 and A2 depend only on x, so they (with their lgamma and digamma calls) are computed once per
 * distinct x and multiplied by its total weight; customers with x = 0 reduce to A3, summed per
 * distinct T; ln(alpha + t) is taken once per distinct time among the other patterns' t_x and T,
 * and the loop over those patterns is a log-sum-exp with one logarithm and one exponential,
 * accumulating value and gradient together.
 */
export function bgNbdObjective(data: RfmData | CompressedRfm): (logParams: Float64Array, grad: Float64Array) => number {
  const d = asCompressed(data);
  const nx = d.uniqueX.length;
  const c4 = new Float64Array(nx);
  const hb = new Float64Array(nx);
  const logTime = new Float64Array(d.times.length);
  const invTime = new Float64Array(d.times.length);
  return (logParams, grad) => {
    const r = Math.exp(logParams[0]!);
    const alpha = Math.exp(logParams[1]!);
    const a = Math.exp(logParams[2]!);
    const b = Math.exp(logParams[3]!);
    const logAlpha = logParams[1]!;
    const lgR = lgamma(r);
    const dgR = digamma(r);
    const lgAB = lgamma(a + b) - lgamma(b);
    const dgAB = digamma(a + b);
    const dgB = digamma(b);
    const logA = Math.log(a);
    let ll = 0;
    let gr = 0;
    let ga = 0;
    let gA = 0;
    let gB = 0;
    for (let j = 0; j < nx; j++) {
      const w = d.weightByX[j]!;
      const X = d.uniqueX[j]!;
      ll += w * r * logAlpha;
      gr += w * r * logAlpha;
      ga += w * r;
      if (X > 0) {
        const dgABX = digamma(a + b + X);
        ll += w * (lgamma(r + X) - lgR + lgAB + lgamma(b + X) - lgamma(a + b + X));
        gr += w * r * (digamma(r + X) - dgR);
        gA += w * a * (dgAB - dgABX);
        gB += w * b * (dgAB + digamma(b + X) - dgB - dgABX);
        c4[j] = logA - Math.log(b + X - 1);
        hb[j] = -b / (b + X - 1);
      }
    }
    const { zeroT, zeroWeight } = d;
    let zLl = 0;
    let zAlpha = 0;
    for (let k = 0; k < zeroT.length; k++) {
      const s = alpha + zeroT[k]!;
      zLl += zeroWeight[k]! * Math.log(s);
      zAlpha += zeroWeight[k]! / s;
    }
    ll -= r * zLl;
    gr -= r * zLl;
    ga -= r * alpha * zAlpha;
    // Patterns with x >= 1: the log-sum-exp of A3 and A4 and its derivatives, where w3 and w4
    // are the softmax weights of the two terms. ln(alpha + t) and 1 / (alpha + t) once per
    // distinct time.
    for (let u = 0; u < logTime.length; u++) {
      const s = alpha + d.times[u]!;
      logTime[u] = Math.log(s);
      invTime[u] = 1 / s;
    }
    const { x, xIndex, TIndex, txIndex, weight } = d;
    const groups = x.length;
    let sLl = 0;
    let sR = 0;
    let sAlpha = 0;
    let sA = 0;
    let sB = 0;
    for (let g = 0; g < groups; g++) {
      const j = xIndex[g]!;
      const w = weight[g]!;
      const m = r + x[g]!;
      const iT = TIndex[g]!;
      const it = txIndex[g]!;
      const lT = logTime[iT]!;
      const lt = logTime[it]!;
      const a3 = -m * lT;
      const a4 = c4[j]! - m * lt;
      let w3: number;
      let w4: number;
      let lse: number;
      if (a3 >= a4) {
        const e = Math.exp(a4 - a3);
        lse = a3 + Math.log1p(e);
        w3 = 1 / (1 + e);
        w4 = e * w3;
      } else {
        const e = Math.exp(a3 - a4);
        lse = a4 + Math.log1p(e);
        w4 = 1 / (1 + e);
        w3 = e * w4;
      }
      sLl += w * lse;
      sR += w * (w3 * lT + w4 * lt);
      sAlpha += w * m * (w3 * invTime[iT]! + w4 * invTime[it]!);
      sA += w * w4;
      sB += w * w4 * hb[j]!;
    }
    grad[0] = gr - r * sR;
    grad[1] = ga - alpha * sAlpha;
    grad[2] = gA + sA;
    grad[3] = gB + sB;
    return ll + sLl;
  };
}

/** Total log-likelihood of the data under the given parameters. */
export function bgNbdLogLikelihood(params: BgNbdParams, data: RfmData | CompressedRfm): number {
  const logParams = Float64Array.of(Math.log(params.r), Math.log(params.alpha), Math.log(params.a), Math.log(params.b));
  return bgNbdObjective(data)(logParams, new Float64Array(4));
}

/**
 * Maximum-likelihood fit of the BG/NBD model. Parameters are optimised on the log scale (which
 * keeps them positive and makes the problem better conditioned) by BFGS on the mean
 * log-likelihood, using the analytic gradient.
 */
export function fitBgNbd(data: RfmData | CompressedRfm, options: BgNbdFitOptions = {}): BgNbdFit {
  const d = asCompressed(data);
  if (d.totalWeight <= 0) throw new RangeError('no customers to fit');
  const objective = bgNbdObjective(d);
  const penalizer = options.penalizer ?? 0;
  const scale = 1 / d.totalWeight;
  let init = options.initial;
  if (!init) {
    // alpha = r / (observed purchase rate), so that the prior mean rate matches the data.
    let purchases = 0;
    let exposure = 0;
    for (let j = 0; j < d.uniqueX.length; j++) purchases += d.uniqueX[j]! * d.weightByX[j]!;
    for (let k = 0; k < d.zeroT.length; k++) exposure += d.zeroT[k]! * d.zeroWeight[k]!;
    for (let g = 0; g < d.x.length; g++) exposure += d.T[g]! * d.weight[g]!;
    const rate = purchases > 0 && exposure > 0 ? purchases / exposure : 1;
    init = { r: 1, alpha: 1 / rate, a: 1, b: 1 };
  }
  const x0 = [Math.log(init.r), Math.log(init.alpha), Math.log(init.a), Math.log(init.b)];
  const result = minimize(
    (p, grad) => {
      const ll = objective(p, grad);
      let f = -ll * scale;
      for (let i = 0; i < 4; i++) {
        const theta = Math.exp(p[i]!);
        grad[i] = -grad[i]! * scale + 2 * penalizer * theta * theta;
        f += penalizer * theta * theta;
      }
      return Number.isFinite(f) ? f : NaN;
    },
    x0,
    { maxIterations: options.maxIterations ?? 500, gradientTolerance: options.gradientTolerance ?? 1e-9 },
  );
  const [r, alpha, a, b] = Array.from(result.x, Math.exp) as [number, number, number, number];
  return {
    r,
    alpha,
    a,
    b,
    logLikelihood: objective(result.x, new Float64Array(4)),
    iterations: result.iterations,
    converged: result.converged,
  };
}
