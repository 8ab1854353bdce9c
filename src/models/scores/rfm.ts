/**
 * RFM: recency (days since the last order), frequency (purchase days) and monetary value (total
 * spend), each scored 1–5, and the named cell of the recency and frequency scores.
 *
 * Scores come from four cut points per measure. With quintiles they are the 20/40/60/80 %
 * quantiles (nearest rank) of the customers at the last fit, kept with the fit so that a customer
 * rescored after an order is placed on the same scale as everyone else. Ties stay together: most
 * customers of a shop have one order, so the frequency quantiles repeat and every one-time buyer
 * gets frequency score 1 rather than being spread over scores by an arbitrary order.
 */
import type { RfmCell, RfmCuts, RfmSettings } from './schema.ts';

/** Frequency or monetary score: 1 + the number of cut points the value is above. */
export function scoreHigherBetter(value: number, cuts: readonly number[]): number {
  let s = 1;
  // An index rather than for…of: this runs a million times a scoring, and an iterator is an allocation.
  for (let i = 0; i < cuts.length; i++) if (value > cuts[i]!) s++;
  return s;
}

/** Recency score: 1 + the number of cut points (in days) the days since the last order are within. */
export function scoreRecency(days: number, cuts: readonly number[]): number {
  let s = 1;
  for (let i = 0; i < cuts.length; i++) if (days <= cuts[i]!) s++;
  return s;
}

/**
 * The standard segment map of the R and F scores (rows R = 1…5, columns F = 1…5), as in the
 * widely used RFM segmentation of Champions, Loyal … Lost:
 *   R 5: New customers | Potential loyalist ×2 | Champions ×2
 *   R 4: Promising | Potential loyalist ×2 | Loyal ×2
 *   R 3: About to sleep ×2 | Need attention | Loyal ×2
 *   R 2: Hibernating ×2 | At risk ×2 | Can't lose them
 *   R 1: Lost | Hibernating | At risk ×2 | Can't lose them
 */
const CELLS: readonly (readonly RfmCell[])[] = [
  ['Lost', 'Hibernating', 'At risk', 'At risk', "Can't lose them"],
  ['Hibernating', 'Hibernating', 'At risk', 'At risk', "Can't lose them"],
  ['About to sleep', 'About to sleep', 'Need attention', 'Loyal', 'Loyal'],
  ['Promising', 'Potential loyalist', 'Potential loyalist', 'Loyal', 'Loyal'],
  ['New customers', 'Potential loyalist', 'Potential loyalist', 'Champions', 'Champions'],
];

/** The named cell of a recency and a frequency score (1–5 each). */
export function rfmCell(recency: number, frequency: number): RfmCell {
  return CELLS[recency - 1]![frequency - 1]!;
}

const quintileRank = (q: number, n: number) => Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));

/** Nearest-rank quantiles q = 0.2, 0.4, 0.6, 0.8 of sorted values. */
export function quintileCuts(sorted: ArrayLike<number>): number[] {
  const n = sorted.length;
  return [0.2, 0.4, 0.6, 0.8].map((q) => sorted[quintileRank(q, n)]!);
}

/**
 * The same quantiles of values in any order, which are reordered in place: each is selected
 * (Hoare's quickselect) rather than all sorted, a fraction of the time on a million values.
 */
export function quintileCutsOf(values: Float64Array): number[] {
  const n = values.length;
  let lo = 0;
  return [0.2, 0.4, 0.6, 0.8].map((q) => {
    const rank = quintileRank(q, n);
    select(values, lo, n - 1, rank);
    lo = rank; // everything before it is no larger: the next rank is searched after it
    return values[rank]!;
  });
}

// Reorders v[lo..hi] so that v[k] is the value of rank k there, no larger one before it and no
// smaller one after it.
function select(v: Float64Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // The median of three as the pivot.
    const [a, b, c] = [v[lo]!, v[mid]!, v[hi]!];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i]! < pivot) i++;
      while (v[j]! > pivot) j--;
      if (i <= j) {
        const t = v[i]!;
        v[i++] = v[j]!;
        v[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** The same quantiles from a histogram of whole numbers (value → count). */
export function quintileCutsOfHistogram(histogram: ReadonlyMap<number, number>): number[] {
  const values = [...histogram.keys()].sort((a, b) => a - b);
  let total = 0;
  for (const v of values) total += histogram.get(v)!;
  return [0.2, 0.4, 0.6, 0.8].map((q) => {
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (const v of values) {
      seen += histogram.get(v)!;
      if (seen >= rank) return v;
    }
    return values[values.length - 1]!;
  });
}

/** The cut points scoring uses: fixed thresholds from the settings, else the fitted quintiles. */
export function cutsInUse(settings: RfmSettings, fitted: RfmCuts | null): RfmCuts | null {
  if (settings.method === 'thresholds') return { recencyDays: settings.recencyDays, frequency: settings.frequency, monetary: settings.monetary };
  return fitted;
}
