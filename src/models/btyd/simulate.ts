/**
 * Seeded simulation of customer bases from the BG/NBD, Gamma-Gamma and BG/BB generative processes, for
 * checking that the fits recover known parameters and for benchmarks. Same seed, same data.
 */
import type { BgNbdParams } from './bgnbd.ts';
import type { GammaGammaParams } from './gammagamma.ts';
import type { BgBbParams } from './bgbb.ts';

/** A seeded pseudo-random source. */
export interface Rng {
  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number;
  normal(): number;
  /** Gamma(shape, rate): mean shape / rate. */
  gamma(shape: number, rate: number): number;
  beta(a: number, b: number): number;
}

/**
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32: small, fast on 32-bit integer
 * arithmetic (which JavaScript does natively) and statistically sound for simulation.
 */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const uniform = (): number => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
  let spare = NaN;
  const normal = (): number => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = NaN;
      return v;
    }
    // Marsaglia's polar method: two normals per accepted pair, no trigonometry.
    for (;;) {
      const u = 2 * uniform() - 1;
      const v = 2 * uniform() - 1;
      const q = u * u + v * v;
      if (q > 0 && q < 1) {
        const f = Math.sqrt((-2 * Math.log(q)) / q);
        spare = v * f;
        return u * f;
      }
    }
  };
  // Marsaglia & Tsang (2000), "A simple method for generating gamma variables"; for shape < 1
  // the boost Gamma(k) = Gamma(k + 1) U^(1/k), done in logs so tiny shapes do not underflow early.
  const gamma = (shape: number, rate: number): number => {
    if (shape < 1) {
      const g = gamma(shape + 1, 1);
      return Math.exp(Math.log(g) + Math.log(1 - uniform()) / shape) / rate;
    }
    const dd = shape - 1 / 3;
    const cc = 1 / Math.sqrt(9 * dd);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + cc * x;
      } while (v <= 0);
      v = v * v * v;
      const u = uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return (dd * v) / rate;
      if (Math.log(u) < 0.5 * x * x + dd * (1 - v + Math.log(v))) return (dd * v) / rate;
    }
  };
  const beta = (p: number, q: number): number => {
    const x = gamma(p, 1);
    return x / (x + gamma(q, 1));
  };
  return { uniform, normal, gamma, beta };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Options for {@link simulateBgNbd}. */
export interface SimulateBgNbdOptions {
  customers: number;
  /** Customer ages T: one value for all, a range drawn uniformly, or one per customer. */
  T: number | { min: number; max: number } | ArrayLike<number>;
  seed?: number;
  /**
   * Record purchases on a grid of this width (e.g. 1/7 for days when the unit is weeks), as a
   * transaction log summarised by calendar day would: purchases in the same step merge, the
   * first step holds the first purchase, and T is floored to the grid. Default: continuous.
   */
  timeStep?: number;
}

/** Simulated customers: the summary, plus the truth that the model does not observe. */
export interface SimulatedCustomers {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  /** 1 if the customer is still alive at T. */
  alive: Uint8Array;
  lambda: Float64Array;
  p: Float64Array;
}

/**
 * Simulates the BG/NBD process (Fader, Hardie & Lee 2005, section 2): each customer makes a
 * first purchase at time 0, then buys at Poisson rate lambda ~ Gamma(r, alpha) and, after each
 * repeat purchase, drops out with probability p ~ Beta(a, b) (a geometric number of purchases).
 */
export function simulateBgNbd(params: BgNbdParams, options: SimulateBgNbdOptions): SimulatedCustomers {
  const n = options.customers;
  const rng = createRng(options.seed ?? 1);
  const step = options.timeStep ?? 0;
  const out: SimulatedCustomers = {
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    alive: new Uint8Array(n),
    lambda: new Float64Array(n),
    p: new Float64Array(n),
  };
  const ages = options.T;
  for (let i = 0; i < n; i++) {
    let T: number;
    if (typeof ages === 'number') T = ages;
    else if ('min' in ages) T = ages.min + (ages.max - ages.min) * rng.uniform();
    else T = ages[i]!;
    const lambda = rng.gamma(params.r, params.alpha);
    const p = rng.beta(params.a, params.b);
    let t = 0;
    let x = 0;
    let last = 0;
    let alive = 1;
    for (;;) {
      t -= Math.log(1 - rng.uniform()) / lambda;
      if (!(t < T)) break;
      if (step > 0) {
        const k = Math.floor(t / step);
        if (k > last) {
          x++;
          last = k;
        }
      } else {
        x++;
        last = t;
      }
      if (rng.uniform() < p) {
        alive = 0;
        break;
      }
    }
    out.x[i] = x;
    out.tx[i] = step > 0 ? last * step : last;
    out.T[i] = step > 0 ? Math.floor(T / step + 1e-9) * step : T;
    out.alive[i] = alive;
    out.lambda[i] = lambda;
    out.p[i] = p;
  }
  return out;
}

/**
 * Simulates mean repeat spend zbar for customers with the given repeat frequencies: nu ~
 * Gamma(q, gamma) per customer, each transaction Gamma(p, nu), so the mean of x of them is
 * Gamma(p x, x nu). zbar is 0 when x = 0.
 */
export function simulateGammaGamma(params: GammaGammaParams, x: ArrayLike<number>, seed = 1): Float64Array {
  const rng = createRng(seed);
  const zbar = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    if (xi <= 0) continue;
    const nu = rng.gamma(params.q, params.gamma);
    zbar[i] = rng.gamma(params.p * xi, xi * nu);
  }
  return zbar;
}

/** Simulated BG/BB customers: the summary, plus the unobserved truth. */
export interface SimulatedBgBb {
  x: Float64Array;
  tx: Float64Array;
  n: Float64Array;
  /** 1 if still alive after the n-th opportunity. */
  alive: Uint8Array;
  p: Float64Array;
  theta: Float64Array;
}

/**
 * Simulates the BG/BB process (Fader, Hardie & Shang 2010): p ~ Beta(alpha, beta),
 * theta ~ Beta(gamma, delta); at each of n opportunities an alive customer first dies with
 * probability theta, and if still alive transacts with probability p.
 */
export function simulateBgBb(params: BgBbParams, options: { customers: number; n: number; seed?: number }): SimulatedBgBb {
  const { customers, n } = options;
  const rng = createRng(options.seed ?? 1);
  const out: SimulatedBgBb = {
    x: new Float64Array(customers),
    tx: new Float64Array(customers),
    n: new Float64Array(customers).fill(n),
    alive: new Uint8Array(customers),
    p: new Float64Array(customers),
    theta: new Float64Array(customers),
  };
  for (let i = 0; i < customers; i++) {
    const p = rng.beta(params.alpha, params.beta);
    const theta = rng.beta(params.gamma, params.delta);
    let x = 0;
    let tx = 0;
    let alive = 1;
    for (let t = 1; t <= n; t++) {
      if (rng.uniform() < theta) {
        alive = 0;
        break;
      }
      if (rng.uniform() < p) {
        x++;
        tx = t;
      }
    }
    out.x[i] = x;
    out.tx[i] = tx;
    out.alive[i] = alive;
    out.p[i] = p;
    out.theta[i] = theta;
  }
  return out;
}
