/**
 * Special functions for the customer-base models: log-gamma, digamma and the Gauss
 * hypergeometric function 2F1 on the real line. Written for double precision; accuracy is
 * checked in test/models/special.test.ts against closed forms and high-precision values.
 */

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

// Lanczos approximation with g = 7, n = 9 (the widely used Godfrey coefficients): relative
// error of Gamma about 1e-15 for x >= 0.5, and no branching on the argument's size.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** log |Gamma(x)| for real x (Infinity at the poles 0, -1, -2, ...). */
export function lgamma(x: number): number {
  if (x >= 0.5) {
    const y = x - 1;
    let sum = LANCZOS[0]!;
    for (let i = 1; i < 9; i++) sum += LANCZOS[i]! / (y + i);
    const t = y + LANCZOS_G + 0.5;
    return HALF_LOG_2PI + (y + 0.5) * Math.log(t) - t + Math.log(sum);
  }
  if (x > 0) return lgamma(x + 1) - Math.log(x); // keeps full relative accuracy near 0
  if (Number.isInteger(x)) return Infinity;
  // Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
  return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
}

/** Sign of Gamma(x): +1 for x > 0, alternating between the poles for x < 0 (0 at a pole). */
export function gammaSign(x: number): number {
  if (x > 0) return 1;
  if (Number.isInteger(x)) return 0;
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/** Digamma psi(x) = d/dx log Gamma(x), for real x (NaN at the poles). */
export function digamma(x: number): number {
  if (x <= 0) {
    if (Number.isInteger(x)) return NaN;
    // Reflection: psi(1 - x) - psi(x) = pi cot(pi x).
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x);
  }
  let acc = 0;
  // Recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, where the asymptotic series below,
  // truncated after the x^-14 term, is accurate to about 1e-16.
  while (x < 10) {
    acc -= 1 / x;
    x += 1;
  }
  const inv2 = 1 / (x * x);
  const series =
    inv2 *
    (1 / 12 -
      inv2 *
        (1 / 120 -
          inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))));
  return acc + Math.log(x) - 0.5 / x - series;
}

/** Options for {@link hyp2f1}. */
export interface Hyp2f1Options {
  /** Maximum number of series terms before giving up (returns NaN). */
  maxTerms?: number;
}

// Power series sum_n (a)_n (b)_n / ((c)_n n!) z^n. Stops once the remaining tail, bounded by a
// geometric series with ratio max(|current ratio|, |z|), is below 1e-17 of the sum. The bound is
// valid once the term ratio has settled below 1, which the check on `ratio` guarantees.
function series(a: number, b: number, c: number, z: number, maxTerms: number): number {
  let term = 1;
  let sum = 1;
  const az = Math.abs(z);
  for (let n = 0; n < maxTerms; n++) {
    const ratio = (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    term *= ratio;
    sum += term;
    if (term === 0) return sum;
    const q = Math.max(Math.abs(ratio), az);
    if (q < 1 && Math.abs(term) * q <= 1e-17 * (1 - q) * Math.abs(sum)) return sum;
  }
  return NaN;
}

function isNonPositiveInteger(v: number): boolean {
  return v <= 0 && Number.isInteger(v);
}

// 1 / (Gamma(u) Gamma(v)) * Gamma(s) Gamma(t), in sign-aware log space.
function gammaRatio(s: number, t: number, u: number, v: number): number {
  const sign = gammaSign(s) * gammaSign(t) * gammaSign(u) * gammaSign(v);
  if (gammaSign(u) === 0 || gammaSign(v) === 0) return 0; // 1/Gamma at a pole is 0
  return sign * Math.exp(lgamma(s) + lgamma(t) - lgamma(u) - lgamma(v));
}

// Abramowitz & Stegun 15.3.6: the z -> 1 - z connection formula, valid when c - a - b is not
// an integer. Both series on the right run in 1 - z < 0.25 and converge quickly.
function connection(a: number, b: number, c: number, z: number, maxTerms: number): number {
  const d = c - a - b;
  const w = 1 - z;
  const first = gammaRatio(c, d, c - a, c - b) * series(a, b, 1 - d, w, maxTerms);
  const second =
    Math.pow(w, d) * gammaRatio(c, -d, a, b) * series(c - a, c - b, d + 1, w, maxTerms);
  return first + second;
}

// How close c - a - b may come to an integer before the connection formula is replaced by
// interpolation in c (its two terms each diverge like 1/(c - a - b - k) there and cancel); the
// spacing was tuned on 2F1(1, 1; 2; z) = -ln(1 - z)/z for 1 - z from 0.25 to 1e-9.
const INTEGER_GAP = 1e-3;
const NODES = [-2, -1, 1, 2];

/**
 * Gauss hypergeometric function 2F1(a, b; c; z) for real parameters and real z < 1 (and z = 1
 * when c - a - b > 0). Uses the power series for |z| <= 0.75, the Pfaff transformation for
 * z < 0 and the 1 - z connection formula for z > 0.75. Where c - a - b is within h of an integer
 * k and that formula is singular, it interpolates (cubic Lagrange) in c through the points
 * c - a - b = k -/+ h, k -/+ 2h, with h = 1e-3 / max(1, -ln(1 - z)): 2F1 is analytic in c, so
 * the interpolation error stays near 1e-12 while the cancellation between the two terms costs
 * about 1e-13 (checked down to 1 - z = 1e-9). Relative accuracy is about 1e-12 throughout.
 */
export function hyp2f1(a: number, b: number, c: number, z: number, options: Hyp2f1Options = {}): number {
  const maxTerms = options.maxTerms ?? 100_000;
  if (isNonPositiveInteger(c)) return NaN;
  if (z === 0 || a === 0 || b === 0) return 1;
  // Terminating series: a polynomial in z, exact by direct summation.
  if (isNonPositiveInteger(a) || isNonPositiveInteger(b)) return series(a, b, c, z, maxTerms);
  if (z > 1 || Number.isNaN(z)) return NaN;
  if (z === 1) return c - a - b > 0 ? gammaRatio(c, c - a - b, c - a, c - b) : Infinity;
  if (z < 0) {
    // Pfaff: 2F1(a, b; c; z) = (1 - z)^-a 2F1(a, c - b; c; z / (z - 1)), with z/(z-1) in (0, 1).
    return Math.pow(1 - z, -a) * hyp2f1(a, c - b, c, z / (z - 1), options);
  }
  if (z <= 0.75) return series(a, b, c, z, maxTerms);
  const d = c - a - b;
  const k = Math.round(d);
  // Derivatives in c grow like powers of ln(1 - z), so the spacing shrinks as z approaches 1.
  const h = INTEGER_GAP * Math.min(1, 1 / -Math.log1p(-z));
  if (Math.abs(d - k) >= h) return connection(a, b, c, z, maxTerms);
  const u = (d - k) / h; // position in units of the node spacing, |u| < 1
  let result = 0;
  for (const ni of NODES) {
    let weight = 1;
    for (const nj of NODES) if (nj !== ni) weight *= (u - nj) / (ni - nj);
    result += weight * connection(a, b, c + (k + ni * h - d), z, maxTerms);
  }
  return result;
}
