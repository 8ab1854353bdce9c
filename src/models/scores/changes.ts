/**
 * When a contact's stored scores count as changed. A daily rescoring moves almost every number a
 * little: P(alive) falls and the expected purchases shrink as days without an order add up, and the
 * expected next order date moves on with the calendar. Rewriting a million rows for that cost
 * more than the fit, so a rescoring rewrites a row only when something moved by more than a
 * marketer could tell from what is stored:
 *
 * - exactly: the RFM scores, RFM cell, churn band and lifecycle stage (whose changes are events),
 *   and the order summary the scores came from (purchase days, first and last purchase day, the
 *   gap before the last, spend to the cent), which a rescoring reuses (pages.ts);
 * - probabilities (P(alive) and so churn risk, P(an order in 90 days)): by a percentage point;
 * - expected purchases and lifetime value: by 2 % of the value, or near zero by 0.005 orders and
 *   0.50 of money (a step of ln 1.02 in ln(1 + v / s), with s = 0.25 orders, 25 of money);
 * - the expected next order date: by more than 5 % of the days until it, and at least two days.
 *
 * Each number is compared with the value stored, not with the bucket it fell in: a row rewritten
 * today starts afresh, and is rewritten again when its first number has drifted a whole step from
 * what it holds. (Buckets, as compared before, rewrote a row whenever any one of its six numbers
 * crossed a bucket's edge, each at its own time: about a fifth of the rows every day on the
 * benchmark shop, against a tenth now, with the same bound on what is stored.) So a stored number
 * is always less than one step away from what a rescoring computes, and was exact when written.
 *
 * The exact part is folded into a 53-bit fingerprint, stored with the scores and read back by the
 * next rescoring; the numbers come with the row's packed state (sql/stored-scores.ts). The
 * fingerprint's top 19 bits are the exact RFM scores, cell, band and stage, so that a rescoring
 * knows what it replaces (for the change events) from what it has read anyway; the low 34 bits
 * hash the order summary (a changed one goes unnoticed with odds of 1 in 17 billion).
 */
import type { CustomerScore } from './score.ts';
import { churnBands, lifecycleStages, rfmCells } from './schema.ts';

const STEP = Math.log(1.02);
const ORDERS_SCALE = 0.25;
const MONEY_SCALE = 25;

// MurmurHash3's 32-bit mixing of one value into a lane, and its finaliser.
function mix(h: number, value: number): number {
  let k = Math.imul(value | 0, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const position = <T extends string>(list: readonly T[]) => new Map<T | null, number>(list.map((v, i) => [v, i + 1]));
const cellCode = position(rfmCells);
const bandCode = position(churnBands);
const stageCode = position(lifecycleStages);

/**
 * The RFM scores, cell, band and stage in 19 bits: R, F and M 3 bits each, then the cell's
 * position in rfmCells (4 bits), the band's in churnBands and the stage's in lifecycleStages
 * (3 bits each); 0 is none. sql/write-scores.ts decodes it.
 */
export function categoryCode(s: CustomerScore): number {
  return (
    ((s.recencyScore ?? 0) << 16) | ((s.frequencyScore ?? 0) << 13) | ((s.monetaryScore ?? 0) << 10) |
    ((cellCode.get(s.rfmCell) ?? 0) << 6) | ((bandCode.get(s.churnBand) ?? 0) << 3) | stageCode.get(s.lifecycleStage)!
  );
}

const HASH_BITS = 2 ** 34;

/** The category code a fingerprint starts with. */
export const codeOf = (fingerprint: number): number => Math.floor(fingerprint / HASH_BITS);

/**
 * The fingerprint of a contact's scores: their categories (`code`, {@link categoryCode}) and the
 * order summary they came from. Equal fingerprints and numbers within their steps
 * ({@link numbersMoved}) mean the stored scores stand.
 */
export function fingerprint(s: CustomerScore, code: number): number {
  const v = scratch;
  v[0] = code;
  v[1] = s.purchaseDays;
  v[2] = s.firstOrderDay ?? -1;
  v[3] = s.lastOrderDay ?? -1;
  v[4] = s.lastGap ?? -1;
  v[5] = s.spend === null ? -1 : Math.round(s.spend * 100);
  v[6] = s.repeatSpend === null ? -1 : Math.round(s.repeatSpend * 100);
  let a = 0x9747b28c;
  let b = 0x1b56c4e9;
  for (let i = 0; i < v.length; i++) {
    a = mix(a, v[i]!);
    b = mix(b, v[i]! ^ 0x5bd1e995);
  }
  // 32 bits of one lane and 2 of the other under the code: an exact JavaScript number and a Postgres bigint.
  return code * HASH_BITS + finish(a) * 4 + (finish(b) >>> 30);
}
const scratch = new Int32Array(7);

/**
 * How many numbers a stored row keeps to compare with (packed with the scores,
 * sql/stored-scores.ts, in this order): P(alive), P(an order in 90 days), the expected purchases
 * in 30, 90 and 365 days, and lifetime value; NaN for none.
 */
export const COMPARED_NUMBERS = 6;

const probabilityMoved = (stored: number, now: number | null) =>
  now === null ? !Number.isNaN(stored) : Number.isNaN(stored) || Math.abs(now - stored) >= 0.01;
const logMoved = (stored: number, now: number | null, scale: number) =>
  now === null
    ? !Number.isNaN(stored)
    : Number.isNaN(stored) || Math.abs(Math.log1p(Math.max(0, now) / scale) - Math.log1p(Math.max(0, stored) / scale)) >= STEP;

/**
 * Whether any of a score's numbers moved a whole step or more from its stored value (`stored`
 * from `at`, in the order of {@link COMPARED_NUMBERS}), or became known or unknown.
 */
export function numbersMoved(stored: ArrayLike<number>, at: number, s: CustomerScore): boolean {
  return (
    probabilityMoved(stored[at]!, s.pAlive) ||
    probabilityMoved(stored[at + 1]!, s.pOrder90d) ||
    logMoved(stored[at + 2]!, s.expectedPurchases30d, ORDERS_SCALE) ||
    logMoved(stored[at + 3]!, s.expectedPurchases90d, ORDERS_SCALE) ||
    logMoved(stored[at + 4]!, s.expectedPurchases365d, ORDERS_SCALE) ||
    logMoved(stored[at + 5]!, s.predictedClv, MONEY_SCALE)
  );
}

/** Whether the expected next order day moved beyond its tolerance since it was stored. */
export function nextOrderMoved(stored: number | null, next: number | null, asOfDay: number): boolean {
  if (stored === null || next === null) return stored !== next;
  return Math.abs(stored - next) > Math.max(1, 0.05 * (next - asOfDay));
}
