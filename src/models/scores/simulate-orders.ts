/**
 * Order histories simulated from the BG/NBD purchase process and the Gamma-Gamma spend process,
 * written into a workspace as contacts and orders: the data for checking, through the database,
 * that the fit recovers the parameters it was simulated from, and for the models benchmark.
 */
import type { Queryable } from '../../db/index.ts';
import { createRng, type BgNbdParams, type GammaGammaParams } from '../btyd/index.ts';

const DAY_MS = 86_400_000;

/** Options for {@link simulateOrderHistories}; BG/NBD rates are per day. */
export interface SimulateOrdersOptions {
  customers: number;
  bgnbd: BgNbdParams;
  spend: GammaGammaParams;
  /** The last day of the history (YYYY-MM-DD): every customer's first order is before it. */
  asOf: string;
  /** Customer ages at the as-of date in whole days, drawn uniformly from [min, max]. */
  ageDays: { min: number; max: number };
  seed?: number;
}

/** A chunk of simulated orders: parallel arrays, one entry per order day of a customer. */
export interface SimulatedOrders {
  /** 0-based customer number. */
  customer: Int32Array;
  /** UTC day number (days since 1970-01-01). */
  day: Int32Array;
  /** Amount in currency units, rounded to cents. */
  amount: Float64Array;
  length: number;
}

/**
 * Simulates customers one by one and yields their orders in chunks of about `chunk` orders
 * (a customer's orders never straddle two chunks). Each customer makes a first order at time 0,
 * then buys at Poisson rate lambda ~ Gamma(r, alpha) and after each repeat purchase drops out
 * with probability p ~ Beta(a, b) (Fader, Hardie & Lee 2005); purchases on the same calendar
 * day are one order, as Tend counts them. Each order's value is Gamma(p, nu) with
 * nu ~ Gamma(q, gamma) per customer (Fader, Hardie & Lee 2005, JMR).
 */
export function* simulateOrderHistories(options: SimulateOrdersOptions, chunk = 100_000): Generator<SimulatedOrders> {
  const rng = createRng(options.seed ?? 1);
  const { r, alpha, a, b } = options.bgnbd;
  const spend = options.spend;
  const asOfDay = Math.floor(Date.parse(`${options.asOf}T00:00:00Z`) / DAY_MS);
  const cap = chunk + 10_000;
  let out = emptyChunk(cap);
  for (let c = 0; c < options.customers; c++) {
    const age = options.ageDays.min + Math.floor((options.ageDays.max - options.ageDays.min + 1) * rng.uniform());
    const lambda = rng.gamma(r, alpha);
    const p = rng.beta(a, b);
    const nu = rng.gamma(spend.q, spend.gamma);
    const first = asOfDay - age;
    const days = [0];
    let t = 0;
    for (;;) {
      t -= Math.log(1 - rng.uniform()) / lambda;
      if (!(t < age + 1)) break; // purchases up to the end of the as-of day
      const d = Math.floor(t);
      if (d > days[days.length - 1]!) days.push(d);
      if (rng.uniform() < p) break;
    }
    if (out.length + days.length > cap) {
      yield out;
      out = emptyChunk(Math.max(cap, days.length));
    }
    for (const d of days) {
      out.customer[out.length] = c;
      out.day[out.length] = first + d;
      out.amount[out.length] = Math.max(0.01, Math.round(rng.gamma(spend.p, nu) * 100) / 100);
      out.length++;
    }
    if (out.length >= chunk) {
      yield out;
      out = emptyChunk(cap);
    }
  }
  if (out.length > 0) yield out;
}

function emptyChunk(size: number): SimulatedOrders {
  return { customer: new Int32Array(size), day: new Int32Array(size), amount: new Float64Array(size), length: 0 };
}

/**
 * Writes simulated customers into a workspace: contacts with user ids `sim-0` … `sim-(n-1)` and
 * their orders (`sim-<contact id>-<k>`, completed, at noon UTC of their day), by batched `unnest`
 * inserts.
 * Returns the number of orders written.
 */
export async function loadSimulatedOrders(db: Queryable, workspaceId: string, options: SimulateOrdersOptions, at: Date): Promise<number> {
  const ids = new Float64Array(options.customers);
  // Contacts in slices, keeping the id of each customer number.
  for (let from = 0; from < options.customers; from += 100_000) {
    const to = Math.min(options.customers, from + 100_000);
    const { rows } = await db.query<{ id: number; n: number }>(
      `insert into contacts (workspace_id, user_id, first_seen_at, last_seen_at, created_at, updated_at)
       select $1, 'sim-' || g, $4, $4, $4, $4 from generate_series($2::int, $3::int) g
       returning id, substr(user_id, 5)::int as n`,
      [workspaceId, from, to - 1, at],
    );
    for (const row of rows) ids[row.n] = row.id;
  }
  let orders = 0;
  for (const part of simulateOrderHistories(options)) {
    const contact = new Array<number>(part.length);
    const seq = new Array<number>(part.length);
    for (let i = 0; i < part.length; i++) {
      contact[i] = ids[part.customer[i]!]!;
      seq[i] = i > 0 && part.customer[i] === part.customer[i - 1] ? seq[i - 1]! + 1 : 0;
    }
    await db.query(
      `insert into orders (workspace_id, order_id, contact_id, status, total, ordered_at, created_at, updated_at)
       select $1, 'sim-' || c || '-' || k, c, 'completed', t, timestamptz '1970-01-01 12:00:00+00' + d * interval '1 day', $6, $6
         from unnest($2::bigint[], $3::int[], $4::int[], $5::numeric[]) as u(c, k, d, t)`,
      [workspaceId, contact, seq, Array.from(part.day.subarray(0, part.length)), Array.from(part.amount.subarray(0, part.length)), at],
    );
    orders += part.length;
  }
  return orders;
}
