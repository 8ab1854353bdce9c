/**
 * Builds the per-customer summary (x, t_x, T, zbar) the customer-base models need from a
 * transaction log. The conventions are those under which the CDNOW summaries of Fader, Hardie &
 * Lee reproduce exactly; a one-day shift in any of them moves the estimates by several percent.
 */

const DAY_MS = 86_400_000;

/** Time unit of t_x and T (and so of the fitted alpha). */
export type TimeUnit = 'days' | 'weeks';

/** One order: `date` is a YYYY-MM-DD calendar day, or a Date taken as its UTC calendar day. */
export interface Transaction {
  customerId: string | number;
  date: string | Date;
  amount: number;
}

/** Per-customer summary, in order of each customer's first appearance in the input. */
export interface CustomerSummary {
  customerIds: (string | number)[];
  /** Repeat purchase days (the first purchase day is not counted). */
  x: Float64Array;
  /** Days (or weeks) from the first to the last purchase day. */
  tx: Float64Array;
  /** Days (or weeks) from the first purchase day to the as-of date. */
  T: Float64Array;
  /** Mean amount of the repeat purchase days (same-day orders summed); 0 when x = 0. */
  zbar: Float64Array;
}

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whole UTC days since 1970-01-01 of a YYYY-MM-DD string or a Date. */
export function dayNumber(date: string | Date): number {
  if (date instanceof Date) {
    const ms = date.getTime();
    if (Number.isNaN(ms)) throw new RangeError('invalid Date');
    return Math.floor(ms / DAY_MS);
  }
  const m = ISO_DAY.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) throw new RangeError(`no such date: ${date}`);
  return ms / DAY_MS;
}

/**
 * Summarises a transaction log as of a date (inclusive), in whole UTC calendar days:
 * - orders after the as-of date are ignored;
 * - a customer's orders on the same day are one transaction (amounts summed);
 * - x = number of purchase days after the first; t_x = last day - first day; T = as-of day -
 *   first day (divided by 7 for weeks); zbar = mean amount of the x repeat days (0 if x = 0).
 * Customers with no order up to the as-of date are left out.
 */
export function summarizeTransactions(
  rows: Iterable<Transaction>,
  asOf: string | Date,
  unit: TimeUnit = 'weeks',
): CustomerSummary {
  if (unit !== 'days' && unit !== 'weeks') throw new RangeError(`unknown time unit: ${String(unit)}`);
  const asOfDay = dayNumber(asOf);
  const index = new Map<string | number, number>();
  const customerIds: (string | number)[] = [];
  const cust: number[] = [];
  const days: number[] = [];
  const amounts: number[] = [];
  let row = 0;
  for (const t of rows) {
    const day = dayNumber(t.date);
    if (!Number.isFinite(t.amount)) throw new RangeError(`row ${row}: amount is not a finite number`);
    row++;
    if (day > asOfDay) continue;
    let c = index.get(t.customerId);
    if (c === undefined) {
      c = customerIds.length;
      index.set(t.customerId, c);
      customerIds.push(t.customerId);
    }
    cust.push(c);
    days.push(day);
    amounts.push(t.amount);
  }
  // Sort the orders by (customer, day) so each customer's days are contiguous and ascending.
  const order = Uint32Array.from(cust.keys());
  order.sort((i, j) => cust[i]! - cust[j]! || days[i]! - days[j]!);
  const n = customerIds.length;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  const zbar = new Float64Array(n);
  const scale = unit === 'weeks' ? 1 / 7 : 1;
  let k = 0;
  while (k < order.length) {
    const c = cust[order[k]!]!;
    const first = days[order[k]!]!;
    let last = first;
    let repeatDays = 0;
    let repeatTotal = 0;
    for (; k < order.length && cust[order[k]!] === c; k++) {
      const day = days[order[k]!]!;
      if (day === first) continue; // part of the first purchase
      if (day !== last) {
        repeatDays++;
        last = day;
      }
      repeatTotal += amounts[order[k]!]!;
    }
    x[c] = repeatDays;
    tx[c] = (last - first) * scale;
    T[c] = (asOfDay - first) * scale;
    zbar[c] = repeatDays > 0 ? repeatTotal / repeatDays : 0;
  }
  return { customerIds, x, tx, T, zbar };
}
