/**
 * Deciding how long each product lasts, from the statistics of its repeat purchases. Pure.
 *
 * The data: for every customer who bought a product more than once, the days between consecutive
 * purchases divided by the units of the earlier purchase (two filters last twice as long as one).
 * Their median is robust to the customers who lapsed for months and came back, and to the
 * occasional stock-up; the quartiles tell a regular cycle (a consumable: reorders cluster tightly
 * around the median) from chance repeats (a durable bought twice, as a gift: gaps spread out).
 * Measured on the demo shop, consumables have a quartile coefficient of dispersion
 * (q3 − q1)/(q3 + q1) of 0.06–0.32 and durables 0.4–0.75, close to the 0.66 of exponential gaps.
 *
 * The rules, in order:
 * 1. learned: the product's own median, when it has at least `minObservations` gaps that form a
 *    regular cycle. A product without lifetime_days must show more evidence
 *    (`minObservationsWithoutLifetime`), since the data alone then declares it a consumable.
 * 2. lifetime: the product's lifetime_days, set by the shop. It is product-specific, so it beats
 *    the category's average (a category often mixes 30-day and 180-day filters).
 * 3. category: a product without lifetime_days and with too few gaps of its own (at least 2) that
 *    behaves like its category's consumables: its customers come back for it at least half as
 *    often (share of buyers who bought it again), at a similar rhythm (its median within a factor
 *    `categoryTolerance` of the category's), and not irregularly (dispersion, once it has 4 gaps).
 *    It then borrows the category's well-measured interval. Without the repeat-share test, a
 *    skillet bought twice as a gift would "run out" like the kitchen's CO2 refills.
 * Anything else does not run out, as far as Tend can tell, and gets no interval.
 */

/** The repeat-purchase statistics of one product (see sql/repeat-gaps.ts). */
export type GapStats = {
  sku: string;
  observations: number;
  buyers: number;
  repeatBuyers: number;
  q1: number | null;
  median: number | null;
  q3: number | null;
};

export type ProductFacts = { sku: string; name: string; category: string | null; lifetimeDays: number | null };

export type IntervalSource = 'learned' | 'lifetime' | 'category';

export type ProductInterval = {
  sku: string;
  intervalDays: number;
  observations: number;
  source: IntervalSource;
};

export type IntervalOptions = {
  /** Gaps a product with lifetime_days needs before its own median is used (default 5). */
  minObservations?: number;
  /** Gaps a product without lifetime_days needs (default 20). */
  minObservationsWithoutLifetime?: number;
  /** Largest quartile coefficient of dispersion that counts as a regular cycle (default 0.35). */
  maxDispersion?: number;
  /** How far (as a factor) a product's own median may be from its category's (default 1.5). */
  categoryTolerance?: number;
};

const defaults = { minObservations: 5, minObservationsWithoutLifetime: 20, maxDispersion: 0.35, categoryTolerance: 1.5 };

/**
 * Whether a replenishable product should be offered again now: due within `withinDays`, or overdue
 * by less than one interval. Long overdue means the contact has probably stopped using it (or buys
 * it elsewhere); reminding them belongs to a win-back message, not to the top of "for you".
 */
export function isDueSoon(dueAt: Date, intervalDays: number, now: Date, withinDays: number): boolean {
  const day = 86_400_000;
  const at = dueAt.getTime();
  return at <= now.getTime() + withinDays * day && at >= now.getTime() - intervalDays * day;
}

/** The quartile coefficient of dispersion, (q3 − q1)/(q3 + q1); Infinity when unknown. */
export function dispersion(s: Pick<GapStats, 'q1' | 'q3'>): number {
  if (s.q1 === null || s.q3 === null || s.q1 + s.q3 <= 0) return Infinity;
  return (s.q3 - s.q1) / (s.q3 + s.q1);
}

/** Chooses each product's interval by the rules in the file comment. */
export function chooseIntervals(products: readonly ProductFacts[], stats: readonly GapStats[], options: IntervalOptions = {}): ProductInterval[] {
  const o = { ...defaults, ...options };
  const bySku = new Map(stats.map((s) => [s.sku, s]));
  const facts = new Map(products.map((p) => [p.sku, p]));
  // Products that were ordered but are not in the catalog still count, as durable-by-default.
  for (const s of stats) if (!facts.has(s.sku)) facts.set(s.sku, { sku: s.sku, name: s.sku, category: null, lifetimeDays: null });

  const out = new Map<string, ProductInterval>();
  for (const p of facts.values()) {
    const s = bySku.get(p.sku);
    const needed = p.lifetimeDays === null ? o.minObservationsWithoutLifetime : o.minObservations;
    if (s && s.median !== null && s.median > 0 && s.observations >= needed && dispersion(s) <= o.maxDispersion) {
      out.set(p.sku, { sku: p.sku, intervalDays: s.median, observations: s.observations, source: 'learned' });
    } else if (p.lifetimeDays !== null) {
      out.set(p.sku, { sku: p.sku, intervalDays: p.lifetimeDays, observations: s?.observations ?? 0, source: 'lifetime' });
    }
  }

  const typical = categoryIntervals([...facts.values()], out, bySku);
  for (const p of facts.values()) {
    const s = bySku.get(p.sku);
    const category = p.category === null ? undefined : typical.get(p.category);
    if (out.has(p.sku) || !s || s.median === null || s.median <= 0 || category === undefined || s.observations < 2 || s.buyers === 0) continue;
    const ratio = s.median / category.intervalDays;
    const rhythm = ratio <= o.categoryTolerance && ratio >= 1 / o.categoryTolerance;
    const returns = s.repeatBuyers / s.buyers >= category.repeatShare / 2;
    const regular = s.observations < 4 || dispersion(s) <= o.maxDispersion;
    if (rhythm && returns && regular) out.set(p.sku, { sku: p.sku, intervalDays: category.intervalDays, observations: s.observations, source: 'category' });
  }
  return [...out.values()].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/**
 * A category's typical interval: the median of its consumables' intervals, each counted as often
 * as it has repeat purchases (at least once), which approximates the median of the pooled gaps;
 * and the share of its consumables' buyers who bought the same product again.
 */
function categoryIntervals(products: readonly ProductFacts[], chosen: ReadonlyMap<string, ProductInterval>, stats: ReadonlyMap<string, GapStats>) {
  const groups = new Map<string, { list: { value: number; weight: number }[]; buyers: number; repeatBuyers: number }>();
  for (const p of products) {
    const interval = chosen.get(p.sku);
    if (!interval || p.category === null) continue;
    const s = stats.get(p.sku);
    const group = groups.get(p.category) ?? { list: [], buyers: 0, repeatBuyers: 0 };
    group.list.push({ value: interval.intervalDays, weight: Math.max(1, s?.observations ?? 0) });
    group.buyers += s?.buyers ?? 0;
    group.repeatBuyers += s?.repeatBuyers ?? 0;
    groups.set(p.category, group);
  }
  const out = new Map<string, { intervalDays: number; repeatShare: number }>();
  for (const [category, { list, buyers, repeatBuyers }] of groups) {
    list.sort((a, b) => a.value - b.value);
    const half = list.reduce((sum, x) => sum + x.weight, 0) / 2;
    let seen = 0;
    const median = list.find((x) => (seen += x.weight) >= half)?.value;
    if (median !== undefined) out.set(category, { intervalDays: median, repeatShare: buyers > 0 ? repeatBuyers / buyers : 0 });
  }
  return out;
}
