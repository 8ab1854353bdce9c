/**
 * Recency-frequency data for the customer-base models, and its compression into distinct
 * (x, t_x, T) patterns. The BG/NBD likelihood depends on a customer only through that triple,
 * so customers sharing one are fitted once with a weight. With day-resolution data this cuts
 * the work a lot (a million customers first seen within one quarter and observed for nine
 * months make about 100,000 patterns); continuous times are left as they are.
 */

/** Per-customer frequency x (repeat purchases), recency t_x and age T, in one time unit. */
export interface RfmData {
  x: ArrayLike<number>;
  tx: ArrayLike<number>;
  T: ArrayLike<number>;
  /** Optional number of customers each row stands for (default 1). */
  weights?: ArrayLike<number>;
}

/**
 * The data grouped for fast likelihood evaluation. Customers with x = 0 (whose t_x is 0) enter
 * the likelihood only through T: `zeroT` / `zeroWeight` hold their distinct T values and total
 * weights (or one entry per customer when T hardly repeats). Customers with x >= 1 are listed
 * as patterns (x, t_x, T) with weights, merged when the values repeat.
 */
export interface CompressedRfm {
  readonly kind: 'compressed-rfm';
  /** Distinct frequencies, ascending, with the total weight of each. */
  uniqueX: Float64Array;
  weightByX: Float64Array;
  zeroT: Float64Array;
  zeroWeight: Float64Array;
  /** Patterns with x >= 1; `xIndex` points into `uniqueX`. */
  x: Float64Array;
  xIndex: Uint32Array;
  tx: Float64Array;
  T: Float64Array;
  weight: Float64Array;
  /**
   * The distinct values among the patterns' t_x and T, and where each pattern's are in it: with
   * day-resolution data a few hundred values serve hundreds of thousands of patterns, so the
   * likelihood takes their logarithms once per evaluation (bgnbd.ts).
   */
  times: Float64Array;
  txIndex: Uint32Array;
  TIndex: Uint32Array;
  totalWeight: number;
  /** Number of input rows. */
  rows: number;
}

function sortedUnique(values: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(values).sort();
  let m = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[m - 1]) sorted[m++] = sorted[i]!;
  return sorted.slice(0, m);
}

function indexOf(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Maps each value to its position among the distinct values, or returns null when there are
// so many distinct values (continuous times) that merging would not pay for itself.
function indexIfRepeating(values: ArrayLike<number>, n: number): { unique: Float64Array; index: Uint32Array } | null {
  const unique = sortedUnique(values);
  if (unique.length * 4 > n) return null;
  const index = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) index[i] = indexOf(unique, values[i]!);
  return { unique, index };
}

/**
 * Checks the data (x a non-negative integer, 0 <= t_x <= T, t_x = 0 when x = 0) and compresses it.
 * With `distinct`, the caller vouches that no (x, t_x, T) occurs twice (the rows are patterns
 * already counted, with their weights), and the search for repeats is skipped.
 */
export function compressRfm(data: RfmData, options: { distinct?: boolean } = {}): CompressedRfm {
  const n = data.x.length;
  if (data.tx.length !== n || data.T.length !== n || (data.weights && data.weights.length !== n)) {
    throw new RangeError('x, tx, T (and weights) must have the same length');
  }
  const { x, tx, T, weights } = data;
  let maxX = 0;
  let repeaters = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const ti = tx[i]!;
    const Ti = T[i]!;
    if (!(Number.isInteger(xi) && xi >= 0 && ti >= 0 && ti <= Ti && Number.isFinite(Ti) && (xi > 0 || ti === 0))) {
      throw new RangeError(`row ${i}: invalid (x, tx, T) = (${xi}, ${ti}, ${Ti})`);
    }
    if (weights && !(weights[i]! >= 0 && Number.isFinite(weights[i]!))) {
      throw new RangeError(`row ${i}: invalid weight ${weights[i]}`);
    }
    if (xi > maxX) maxX = xi;
    if (xi > 0) repeaters++;
  }
  // Frequencies are small integers in practice: index them through a dense array when possible.
  const dense = maxX <= 1e6;
  const uniqueX = dense ? denseUnique(x, maxX) : sortedUnique(x);
  const xDense = new Uint32Array(dense ? maxX + 1 : 0);
  const position = new Map<number, number>();
  uniqueX.forEach((v, j) => (dense ? (xDense[v] = j) : position.set(v, j)));
  const xIndexOf = (v: number): number => (dense ? xDense[v]! : position.get(v)!);
  const weightByX = new Float64Array(uniqueX.length);
  let totalWeight = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i]! : 1;
    weightByX[xIndexOf(x[i]!)]! += w;
    totalWeight += w;
  }
  const byT = options.distinct ? null : indexIfRepeating(T, n);
  const byTx = byT ? indexIfRepeating(tx, n) : null;

  // Customers with x = 0: total weight per distinct T, or one entry each.
  let zeroT: Float64Array;
  let zeroWeight: Float64Array;
  if (byT) {
    zeroT = byT.unique;
    zeroWeight = new Float64Array(zeroT.length);
    for (let i = 0; i < n; i++) if (x[i] === 0) zeroWeight[byT.index[i]!]! += weights ? weights[i]! : 1;
  } else {
    zeroT = new Float64Array(n - repeaters);
    zeroWeight = new Float64Array(n - repeaters);
    for (let i = 0, k = 0; i < n; i++) {
      if (x[i] !== 0) continue;
      zeroT[k] = T[i]!;
      zeroWeight[k++] = weights ? weights[i]! : 1;
    }
  }

  // Customers with x >= 1: merge identical (x, T, t_x) through a numeric key of their indices.
  let group: Uint32Array;
  let groups: number;
  if (byT && byTx && uniqueX.length * byT.unique.length * byTx.unique.length < 2 ** 52) {
    const nT = byT.unique.length;
    const ntx = byTx.unique.length;
    const keys = new Float64Array(repeaters);
    for (let i = 0, k = 0; i < n; i++) {
      if (x[i] !== 0) keys[k++] = (xIndexOf(x[i]!) * nT + byT.index[i]!) * ntx + byTx.index[i]!;
    }
    const uniqueKeys = sortedUnique(keys);
    groups = uniqueKeys.length;
    group = new Uint32Array(repeaters);
    for (let k = 0; k < repeaters; k++) group[k] = indexOf(uniqueKeys, keys[k]!);
  } else {
    groups = repeaters;
    group = new Uint32Array(repeaters);
    for (let k = 0; k < repeaters; k++) group[k] = k;
  }
  const out: CompressedRfm = {
    kind: 'compressed-rfm',
    uniqueX,
    weightByX,
    zeroT,
    zeroWeight,
    x: new Float64Array(groups),
    xIndex: new Uint32Array(groups),
    tx: new Float64Array(groups),
    T: new Float64Array(groups),
    weight: new Float64Array(groups),
    times: new Float64Array(0),
    txIndex: new Uint32Array(0),
    TIndex: new Uint32Array(0),
    totalWeight,
    rows: n,
  };
  for (let i = 0, k = 0; i < n; i++) {
    if (x[i] === 0) continue;
    const g = group[k++]!;
    out.x[g] = x[i]!;
    out.xIndex[g] = xIndexOf(x[i]!);
    out.tx[g] = tx[i]!;
    out.T[g] = T[i]!;
    out.weight[g]! += weights ? weights[i]! : 1;
  }
  Object.assign(out, timeTable(out.tx, out.T));
  return out;
}

// The times of the patterns as a table the likelihood takes logarithms of, and where each
// pattern's t_x and T are in it: the distinct values, through a dense table, when the times are
// whole numbers of moderate size (days or weeks); otherwise (continuous times hardly repeat) every
// pattern's two times as they are.
function timeTable(tx: Float64Array, T: Float64Array): { times: Float64Array; txIndex: Uint32Array; TIndex: Uint32Array } {
  const n = T.length;
  const txIndex = new Uint32Array(n);
  const TIndex = new Uint32Array(n);
  let max = 0;
  let whole = true;
  for (let i = 0; i < n && whole; i++) {
    whole = Number.isInteger(T[i]!) && Number.isInteger(tx[i]!);
    if (T[i]! > max) max = T[i]!;
  }
  if (whole && max < 2 ** 20) {
    const position = new Int32Array(max + 1).fill(-1);
    for (let i = 0; i < n; i++) position[tx[i]!] = position[T[i]!] = 0;
    const list: number[] = [];
    for (let v = 0; v <= max; v++) if (position[v] === 0) position[v] = list.push(v) - 1;
    for (let i = 0; i < n; i++) {
      txIndex[i] = position[tx[i]!]!;
      TIndex[i] = position[T[i]!]!;
    }
    return { times: Float64Array.from(list), txIndex, TIndex };
  }
  const times = new Float64Array(2 * n);
  times.set(tx);
  times.set(T, n);
  for (let i = 0; i < n; i++) {
    txIndex[i] = i;
    TIndex[i] = n + i;
  }
  return { times, txIndex, TIndex };
}

// Distinct values of non-negative integers up to maxX, by counting (no sort).
function denseUnique(x: ArrayLike<number>, maxX: number): Float64Array {
  const seen = new Uint8Array(maxX + 1);
  for (let i = 0; i < x.length; i++) seen[x[i]!] = 1;
  const out: number[] = [];
  for (let v = 0; v <= maxX; v++) if (seen[v]) out.push(v);
  return Float64Array.from(out);
}

/** Returns the data compressed, compressing it unless it already is. */
export function asCompressed(data: RfmData | CompressedRfm): CompressedRfm {
  return 'kind' in data && data.kind === 'compressed-rfm' ? data : compressRfm(data as RfmData);
}
