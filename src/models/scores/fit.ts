/**
 * Fitting a workspace's customer-base models from its order history: BG/NBD (purchase timing),
 * Gamma-Gamma (spend per purchase) and the RFM quintile cut points, all as of one day.
 *
 * The customers are streamed from the database in pages (sql/customer-days.ts) and folded into
 * what the fits need, never held as rows: BG/NBD depends on a customer only through (x, t_x, T),
 * so customers are counted per distinct pattern (with day-resolution data a million customers make
 * a few hundred thousand patterns); Gamma-Gamma needs the repeat customers' (x, mean repeat spend);
 * RFM needs histograms of recency and frequency and the spend of each customer.
 */
import type { Queryable } from '../../db/index.ts';
import { fitBgNbd, fitGammaGamma, type BgNbdFit, type GammaGammaFit } from '../btyd/index.ts';
import { contactRanges, dayOf, fitPages } from './inputs.ts';
import type { CustomersPage } from './sql/customer-days.ts';
import { quintileCuts, quintileCutsOfHistogram } from './rfm.ts';
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

// Pattern keys pack (x, t_x, T) in days into one exact double: 20 bits each for the days, 13 for x.
const SHIFT = 1_048_576;
const MAX_X = 8192; // x * 2^40 stays below 2^53

/** Folds pages of customers into pattern counts, Gamma-Gamma inputs and RFM histograms. */
function accumulator(asOfDay: number) {
  const acc = {
    patterns: new Map<number, number>(),
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
        const key = (xi * SHIFT + tx) * SHIFT + T;
        acc.patterns.set(key, (acc.patterns.get(key) ?? 0) + 1);
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
  const patterns = new Map<number, number>();
  const ggX = growable();
  const ggZbar = growable();
  const spend = growable();
  const recency = new Map<number, number>();
  const frequency = new Map<number, number>();
  let customers = 0;
  for (const part of parts) {
    for (const [key, w] of part.patterns) patterns.set(key, (patterns.get(key) ?? 0) + w);
    for (const [k, v] of part.recency) recency.set(k, (recency.get(k) ?? 0) + v);
    for (const [k, v] of part.frequency) frequency.set(k, (frequency.get(k) ?? 0) + v);
    part.ggX.view().forEach((v) => ggX.push(v));
    part.ggZbar.view().forEach((v) => ggZbar.push(v));
    part.spend.view().forEach((v) => spend.push(v));
    customers += part.customers;
  }
  const inputsMs = performance.now() - started;

  const notes: string[] = [];
  const scale = options.timeUnit === 'weeks' ? 1 / 7 : 1;
  const n = patterns.size;
  const data = { x: new Float64Array(n), tx: new Float64Array(n), T: new Float64Array(n), weights: new Float64Array(n) };
  let k = 0;
  let repeaters = 0;
  for (const [key, weight] of patterns) {
    const T = key % SHIFT;
    const rest = (key - T) / SHIFT;
    const tx = rest % SHIFT;
    data.x[k] = (rest - tx) / SHIFT;
    data.tx[k] = tx * scale;
    data.T[k] = T * scale;
    data.weights[k++] = weight;
    if (data.x[k - 1]! > 0) repeaters += weight;
  }
  let bgnbd: BgNbdFit | null = null;
  let gammaGamma: GammaGammaFit | null = null;
  if (customers === 0) notes.push('no customer has a completed order by the as-of day');
  else if (repeaters === 0) notes.push('no customer has bought on a second day yet: BG/NBD and Gamma-Gamma need repeat purchases');
  else {
    bgnbd = fitBgNbd(data);
    if (!bgnbd.converged) bgnbd = fitBgNbd(data, { initial: bgnbd });
    if (!bgnbd.converged) notes.push(`BG/NBD did not converge in ${bgnbd.iterations} iterations`);
    try {
      const spendData = { x: ggX.view(), zbar: ggZbar.view() };
      gammaGamma = fitGammaGamma(spendData);
      // Summed over hundreds of thousands of customers the gradient carries rounding noise that can
      // stop the line search just short of the tolerance; one restart from there (with a fresh
      // Hessian estimate) finishes the job.
      if (!gammaGamma.converged) gammaGamma = fitGammaGamma(spendData, { initial: gammaGamma });
      if (!gammaGamma.converged) notes.push(`Gamma-Gamma did not converge in ${gammaGamma.iterations} iterations`);
      if (gammaGamma.q <= 1) notes.push('Gamma-Gamma q ≤ 1: mean spend is unbounded, so no lifetime value is predicted');
    } catch (err) {
      notes.push(`Gamma-Gamma not fitted: ${(err as Error).message}`);
    }
  }
  const rfm: RfmCuts | null =
    customers === 0
      ? null
      : { recencyDays: quintileCutsOfHistogram(recency), frequency: quintileCutsOfHistogram(frequency), monetary: quintileCuts(spend.view().slice().sort()) };
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
