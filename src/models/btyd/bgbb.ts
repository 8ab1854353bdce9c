/**
 * BG/BB model for discrete-time, non-contractual settings (Fader, Hardie & Shang 2010,
 * "Customer-Base Analysis in a Discrete-Time Noncontractual Setting", Marketing Science 29(6)):
 * at each of n transaction opportunities an alive customer transacts with probability
 * p ~ Beta(alpha, beta), and dies at the start of each opportunity with probability
 * theta ~ Beta(gamma, delta). Suits yearly donations, event attendance, seasonal purchases.
 */
import { digamma, lgamma } from './special.ts';
import { minimize } from './optimize.ts';

/** BG/BB parameters. */
export interface BgBbParams {
  alpha: number;
  beta: number;
  gamma: number;
  delta: number;
}

/** Result of {@link fitBgBb}. */
export interface BgBbFit extends BgBbParams {
  logLikelihood: number;
  iterations: number;
  converged: boolean;
}

/** Per-customer (or per-pattern, with weights) frequency x, recency t_x and opportunities n. */
export interface BgBbData {
  x: ArrayLike<number>;
  tx: ArrayLike<number>;
  n: ArrayLike<number>;
  weights?: ArrayLike<number>;
}

const lbeta = (u: number, v: number): number => lgamma(u) + lgamma(v) - lgamma(u + v);

// log L of one pattern (FHS 2010, eq. 5) as a log-sum-exp over its terms; each term is
// B(alpha+x, beta+y)/B(alpha,beta) * B(gamma+g, delta+d)/B(gamma,delta), and its gradient with
// respect to the log-parameters is a sum of digamma differences, weighted by the term's share.
function patternLogLikelihood(q: BgBbParams, x: number, tx: number, n: number, grad: Float64Array | null): number {
  const { alpha, beta, gamma, delta } = q;
  const terms: [number, number, number][] = [[n - x, 0, n]]; // [y, g, d]
  for (let i = 0; i <= n - tx - 1; i++) terms.push([tx - x + i, 1, tx + i]);
  const base = lbeta(alpha, beta) + lbeta(gamma, delta);
  const logs = terms.map(([y, g, d]) => lbeta(alpha + x, beta + y) + lbeta(gamma + g, delta + d) - base);
  const m = Math.max(...logs);
  let sum = 0;
  for (const l of logs) sum += Math.exp(l - m);
  if (grad) {
    const dAB = digamma(alpha + beta);
    const dGD = digamma(gamma + delta);
    const [dA, dB, dG, dD] = [digamma(alpha), digamma(beta), digamma(gamma), digamma(delta)];
    terms.forEach(([y, g, d], k) => {
      const share = Math.exp(logs[k]! - m) / sum;
      const dABxy = digamma(alpha + beta + x + y);
      const dGDgd = digamma(gamma + delta + g + d);
      grad[0]! += share * alpha * (digamma(alpha + x) - dABxy - dA + dAB);
      grad[1]! += share * beta * (digamma(beta + y) - dABxy - dB + dAB);
      grad[2]! += share * gamma * (digamma(gamma + g) - dGDgd - dG + dGD);
      grad[3]! += share * delta * (digamma(delta + d) - dGDgd - dD + dGD);
    });
  }
  return m + Math.log(sum);
}

/** Log-likelihood of one customer with x transactions, the last at t_x, in n opportunities. */
export function bgBbCustomerLogLikelihood(params: BgBbParams, x: number, tx: number, n: number): number {
  return patternLogLikelihood(params, x, tx, n, null);
}

/**
 * Maximum-likelihood fit (log-parameters, BFGS, analytic gradient). Customers sharing
 * (x, t_x, n) are merged into one weighted pattern first: there are at most (n+1)(n+2)/2 of them.
 */
export function fitBgBb(data: BgBbData, options: { initial?: BgBbParams; maxIterations?: number } = {}): BgBbFit {
  const patterns = new Map<string, [number, number, number, number]>();
  let total = 0;
  for (let i = 0; i < data.x.length; i++) {
    const [x, tx, n] = [data.x[i]!, data.tx[i]!, data.n[i]!];
    if (!(Number.isInteger(x) && Number.isInteger(tx) && Number.isInteger(n) && x >= 0 && x <= tx && tx <= n && (x > 0 || tx === 0))) {
      throw new RangeError(`row ${i}: invalid (x, tx, n) = (${x}, ${tx}, ${n})`);
    }
    const w = data.weights ? data.weights[i]! : 1;
    const key = `${x},${tx},${n}`;
    const pattern = patterns.get(key);
    if (pattern) pattern[3] += w;
    else patterns.set(key, [x, tx, n, w]);
    total += w;
  }
  const rows = [...patterns.values()];
  const g = new Float64Array(4);
  const logLik = (lp: Float64Array, grad: Float64Array): number => {
    const q = { alpha: Math.exp(lp[0]!), beta: Math.exp(lp[1]!), gamma: Math.exp(lp[2]!), delta: Math.exp(lp[3]!) };
    grad.fill(0);
    let ll = 0;
    for (const [x, tx, n, w] of rows) {
      g.fill(0);
      ll += w * patternLogLikelihood(q, x, tx, n, g);
      for (let k = 0; k < 4; k++) grad[k]! += w * g[k]!;
    }
    return ll;
  };
  const init = options.initial ?? { alpha: 1, beta: 1, gamma: 1, delta: 1 };
  const result = minimize(
    (lp, grad) => {
      const f = -logLik(lp, grad) / total;
      for (let k = 0; k < 4; k++) grad[k] = -grad[k]! / total;
      return Number.isFinite(f) ? f : NaN;
    },
    [init.alpha, init.beta, init.gamma, init.delta].map(Math.log),
    { maxIterations: options.maxIterations ?? 500 },
  );
  const [alpha, beta, gamma, delta] = Array.from(result.x, Math.exp) as [number, number, number, number];
  return {
    alpha,
    beta,
    gamma,
    delta,
    logLikelihood: logLik(result.x, new Float64Array(4)),
    iterations: result.iterations,
    converged: result.converged,
  };
}

/** P(alive at opportunity n+1 | x, t_x, n) (FHS 2010, eq. 11). */
export function bgBbPAlive(params: BgBbParams, x: number, tx: number, n: number): number {
  const { alpha, beta, gamma, delta } = params;
  const alive = lbeta(alpha + x, beta + n - x) - lbeta(alpha, beta) + lbeta(gamma, delta + n + 1) - lbeta(gamma, delta);
  return Math.exp(alive - bgBbCustomerLogLikelihood(params, x, tx, n));
}

// delta/(gamma-1) * G(gamma+delta)/G(1+delta) * [G(1+delta+n)/G(gamma+delta+n) - G(1+delta+n+m)/G(gamma+delta+n+m)]
function survivalSum(gamma: number, delta: number, n: number, m: number): number {
  const scale = Math.log(delta) + lgamma(gamma + delta) - lgamma(1 + delta);
  const first = Math.exp(scale + lgamma(1 + delta + n) - lgamma(gamma + delta + n));
  const second = Math.exp(scale + lgamma(1 + delta + n + m) - lgamma(gamma + delta + n + m));
  return (first - second) / (gamma - 1);
}

/**
 * Expected transactions in the next m opportunities (FHS 2010, eq. 13). At gamma = 1 the closed
 * form is 0/0, so within 1e-3 of it the value is interpolated (cubic Lagrange) in gamma.
 */
export function bgBbExpectedTransactions(params: BgBbParams, m: number, x: number, tx: number, n: number): number {
  const { alpha, beta, gamma, delta } = params;
  const logL = bgBbCustomerLogLikelihood(params, x, tx, n);
  const p2 = Math.exp(lbeta(alpha + x + 1, beta + n - x) - lbeta(alpha, beta) - logL);
  if (Math.abs(gamma - 1) >= 1e-3) return p2 * survivalSum(gamma, delta, n, m);
  const nodes = [-2, -1, 1, 2];
  const u = (gamma - 1) / 1e-3;
  let s = 0;
  for (const ni of nodes) {
    let w = 1;
    for (const nj of nodes) if (nj !== ni) w *= (u - nj) / (ni - nj);
    s += w * survivalSum(1 + ni * 1e-3, delta, n, m);
  }
  return p2 * s;
}
