/**
 * Fitting a workspace's customer-base models from its order history: BG/NBD (purchase timing),
 * Gamma-Gamma (spend per purchase) and the RFM quintile cut points, all as of one day.
 *
 * The customers are streamed from the database in pages (sql/customer-days.ts) and folded into
 * what the fits need, never held as rows: BG/NBD depends on a customer only through (x, t_x, T),
 * packed into one number per customer and counted per distinct pattern once all are in (with
 * day-resolution data a million customers make a few hundred thousand patterns); Gamma-Gamma
 * needs the repeat customers' (x, mean repeat spend); RFM needs histograms of recency and
 * frequency and the spend of each customer.
 */
import type { Queryable } from '../../db/index.ts';
import { compressRfm, fitBgNbd, type BgNbdFit, type GammaGammaFit } from '../btyd/index.ts';
import { fitSpendAside } from '../btyd/gammagamma-aside.ts';
import { contactRanges, dayOf, fitPages } from './inputs.ts';
import type { CustomersPage } from './sql/customer-days.ts';
import { quintileCutsOf, quintileCutsOfHistogram } from './rfm.ts';
import type { RfmCuts, TimeUnit } from './schema.ts';
import type { ScoreRunResult } from './scorer.ts';

export type FitOptions = {
  /** Last day of the calibration period (YYYY-MM-DD); later orders are ignored. */
  asOf: string;
  timeUnit: TimeUnit;
  /** Id ranges read at once (one connection each); 1 on the embedded database. */
  parallel?: number;
  pageSize?: number;
};

export type FitResult = {
  asOf: string;
  timeUnit: TimeUnit;
  /** Customers with at least one completed order by the as-of day. */
  customers: number;
  /** Customers with at least one repeat purchase day (what Gamma-Gamma is fitted on). */
  repeatCustomers: number;
  /** Distinct (x, t_x, T) patterns the BG/NBD likelihood was evaluated on. */
  patterns: number;
  bgnbd: BgNbdFit | null;
  gammaGamma: GammaGammaFit | null;
  rfm: RfmCuts | null;
  /** Why a model could not be fitted, when it could not. */
  notes: string[];
  /** Milliseconds: reading and aggregating the inputs, the optimisations, and in all. */
  timings: { inputsMs: number; optimiseMs: number; totalMs: number };
};

// A growable Float64Array: amortised appends without boxing a million numbers.
function growable() {
  let data = new Float64Array(1024);
  let length = 0;
  return {
    push(v: number) {
      if (length === data.length) {
        const next = new Float64Array(data.length * 2);
        next.set(data);
        data = next;
      }
      data[length++] = v;
    },
    view: () => data.subarray(0, length),
  };
}

/** The arrays end to end. */
function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// Pattern keys pack (x, t_x, T) in days into one exact double: 20 bits each for the days, 13 for x.
const SHIFT = 1_048_576;
const MAX_X = 8192; // x * 2^40 stays below 2^53

/**
 * Folds pages of customers into what the fits need: the age T of each customer without a repeat
 * purchase and a pattern key for each other one (counted once all are in, by sorting: that costs
 * less than counting them in a map), the Gamma-Gamma inputs and the RFM histograms.
 */
function accumulator(asOfDay: number) {
  const acc = {
    keys: growable(),
    onceT: growable(),
    ggX: growable(),
    ggZbar: growable(),
    spend: growable(),
    recency: new Map<number, number>(),
    frequency: new Map<number, number>(),
    customers: 0,
    add(page: CustomersPage): void {
      const { x, first_day: first, last_day: last, repeat_spend: repeat } = page;
      for (let i = 0; i < page.n; i++) {
        const xi = x[i]!;
        const tx = last[i]! - first[i]!;
        const T = asOfDay - first[i]!;
        if (xi >= MAX_X || T >= SHIFT) throw new RangeError(`customer ${page.id[i]}: too many purchase days or too long a history to fit`);
        if (xi === 0) acc.onceT.push(T);
        else acc.keys.push((xi * SHIFT + tx) * SHIFT + T);
        if (xi > 0 && repeat[i]! > 0) {
          acc.ggX.push(xi);
          acc.ggZbar.push(repeat[i]! / xi);
        }
        acc.spend.push(page.spend[i]!);
        const r = asOfDay - last[i]!;
        acc.recency.set(r, (acc.recency.get(r) ?? 0) + 1);
        acc.frequency.set(xi + 1, (acc.frequency.get(xi + 1) ?? 0) + 1);
      }
      acc.customers += page.n;
    },
  };
  return acc;
}

/**
 * The distinct (x, t_x, T) patterns with the number of customers of each, in the fit's time
 * unit: first those without a repeat purchase (counted per age T), then the others (their keys
 * are sorted in place).
 */
function patternsOf(onceT: Float64Array, keys: Float64Array, scale: number): { x: Float64Array; tx: Float64Array; T: Float64Array; weights: Float64Array } {
  let maxT = -1;
  for (let i = 0; i < onceT.length; i++) if (onceT[i]! > maxT) maxT = onceT[i]!;
  const perT = new Float64Array(maxT + 1);
  for (let i = 0; i < onceT.length; i++) perT[onceT[i]!]!++;
  keys.sort();
  let n = 0;
  for (let T = 0; T <= maxT; T++) if (perT[T]! > 0) n++;
  for (let i = 0; i < keys.length; i++) if (i === 0 || keys[i] !== keys[i - 1]) n++;
  const out = { x: new Float64Array(n), tx: new Float64Array(n), T: new Float64Array(n), weights: new Float64Array(n) };
  let k = -1;
  for (let T = 0; T <= maxT; T++) {
    if (perT[T] === 0) continue;
    out.T[++k] = T * scale;
    out.weights[k] = perT[T]!;
  }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0 && key === keys[i - 1]) {
      out.weights[k]!++;
      continue;
    }
    const T = key % SHIFT;
    const rest = (key - T) / SHIFT;
    const tx = rest % SHIFT;
    out.x[++k] = (rest - tx) / SHIFT;
    out.tx[k] = tx * scale;
    out.T[k] = T * scale;
    out.weights[k] = 1;
  }
  return out;
}

/** Reads the customers of a workspace as of a day and fits the models; nothing is stored. */
export async function fitWorkspace(db: Queryable, workspaceId: string, options: FitOptions): Promise<FitResult> {
  const started = performance.now();
  const asOfDay = dayOf(options.asOf);
  const ranges = await contactRanges(db, workspaceId, Math.max(1, options.parallel ?? 1));
  // Each range folds into its own accumulator and they are merged in range order, so the result
  // does not depend on which connection answered first.
  const parts = await Promise.all(
    ranges.map(async (range) => {
      const acc = accumulator(asOfDay);
      for await (const page of fitPages(db, workspaceId, options.asOf, range, options.pageSize ?? 50_000)) acc.add(page);
      return acc;
    }),
  );
  const recency = new Map<number, number>();
  const frequency = new Map<number, number>();
  let customers = 0;
  for (const part of parts) {
    for (const [k, v] of part.recency) recency.set(k, (recency.get(k) ?? 0) + v);
    for (const [k, v] of part.frequency) frequency.set(k, (frequency.get(k) ?? 0) + v);
    customers += part.customers;
  }
  const ggX = concat(parts.map((p) => p.ggX.view()));
  const ggZbar = concat(parts.map((p) => p.ggZbar.view()));
  const spend = concat(parts.map((p) => p.spend.view()));
  const onceT = concat(parts.map((p) => p.onceT.view()));
  const keys = concat(parts.map((p) => p.keys.view()));
  const inputsMs = performance.now() - started;

  const notes: string[] = [];
  const patterns = patternsOf(onceT, keys, options.timeUnit === 'weeks' ? 1 / 7 : 1);
  const n = patterns.x.length;
  let repeaters = 0;
  for (let k = 0; k < n; k++) if (patterns.x[k]! > 0) repeaters += patterns.weights[k]!;
  let bgnbd: BgNbdFit | null = null;
  let gammaGamma: GammaGammaFit | null = null;
  if (customers === 0) notes.push('no customer has a completed order by the as-of day');
  else if (repeaters === 0) notes.push('no customer has bought on a second day yet: BG/NBD and Gamma-Gamma need repeat purchases');
  else {
    const spendFit = fitSpendAside({ x: ggX, zbar: ggZbar }).catch((err: Error) => (notes.push(`Gamma-Gamma not fitted: ${err.message}`), null));
    const data = compressRfm(patterns, { distinct: true });
    bgnbd = fitBgNbd(data);
    if (!bgnbd.converged) bgnbd = fitBgNbd(data, { initial: bgnbd });
    if (!bgnbd.converged) notes.push(`BG/NBD did not converge in ${bgnbd.iterations} iterations`);
    gammaGamma = await spendFit;
    if (gammaGamma && !gammaGamma.converged) notes.push(`Gamma-Gamma did not converge in ${gammaGamma.iterations} iterations`);
    if (gammaGamma && gammaGamma.q <= 1) notes.push('Gamma-Gamma q ≤ 1: mean spend is unbounded, so no lifetime value is predicted');
  }
  const rfm: RfmCuts | null =
    customers === 0
      ? null
      : { recencyDays: quintileCutsOfHistogram(recency), frequency: quintileCutsOfHistogram(frequency), monetary: quintileCutsOf(spend) };
  const end = performance.now();
  return {
    asOf: options.asOf,
    timeUnit: options.timeUnit,
    customers,
    repeatCustomers: repeaters,
    patterns: n,
    bgnbd,
    gammaGamma,
    rfm,
    notes,
    timings: { inputsMs, optimiseMs: end - started - inputsMs, totalMs: end - started },
  };
}

/** A fit (and the scoring after it) as the CLI's --json and the API report it. */
export function fitSummary(fit: FitResult, scored: ScoreRunResult | null) {
  return {
    asOf: fit.asOf,
    timeUnit: fit.timeUnit,
    customers: fit.customers,
    repeatCustomers: fit.repeatCustomers,
    bgnbd: fit.bgnbd && { r: fit.bgnbd.r, alpha: fit.bgnbd.alpha, a: fit.bgnbd.a, b: fit.bgnbd.b, logLikelihood: fit.bgnbd.logLikelihood, converged: fit.bgnbd.converged },
    gammaGamma: fit.gammaGamma && { p: fit.gammaGamma.p, q: fit.gammaGamma.q, gamma: fit.gammaGamma.gamma, customers: fit.gammaGamma.customers, converged: fit.gammaGamma.converged },
    rfm: fit.rfm,
    seconds: { fit: fit.timings.totalMs / 1000, inputs: fit.timings.inputsMs / 1000, optimise: fit.timings.optimiseMs / 1000, score: scored ? scored.timings.totalMs / 1000 : null },
    scored: scored && {
      contacts: scored.scored, customers: scored.customers, aggregated: scored.aggregated, written: scored.written, unchanged: scored.unchanged,
      rfmChanges: scored.rfmChanges, churnChanges: scored.churnChanges, stageChanges: scored.stageChanges,
    },
    notes: fit.notes,
  };
}
