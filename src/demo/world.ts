// Lookup tables the generator builds once per run from the catalog: product popularity,
// per-category samplers and the time window. Read-only after construction.
import { DEMO_CATEGORIES } from './catalog.ts';
import { mixSeed, Rng } from './random.ts';
import type { DemoProduct } from './types.ts';

type Sampler = { items: number[]; cumulative: number[] };

export type World = {
  seed: number;
  startMs: number;
  endMs: number;
  catalog: DemoProduct[];
  indexBySku: Map<string, number>;
  categories: readonly string[];
  /** Categories whose products mostly run out: the ones loyal reorderers favour. */
  consumableCategories: number[];
  categoryWeights: number[];
  all: Sampler[];
  consumables: Sampler[];
};

/** Builds the lookup tables for one generator run. */
export function buildWorld(catalog: DemoProduct[], seed: number, startMs: number, endMs: number): World {
  const rng = new Rng(mixSeed(seed, 0x3091d));
  // Cheaper goods and consumables sell more often; a log-normal factor makes some products hits.
  const weights = catalog.map((p) => (p.lifetimeDays === null ? 1 : 2.2) * Math.sqrt(20 / p.price) * rng.logNormal(0, 0.5));
  const categories = DEMO_CATEGORIES;
  const all: Sampler[] = categories.map(() => ({ items: [], cumulative: [] }));
  const consumables: Sampler[] = categories.map(() => ({ items: [], cumulative: [] }));
  catalog.forEach((product, i) => {
    const c = categories.indexOf(product.category);
    const weight = weights[i] ?? 1;
    addTo(all[c], i, weight);
    if (product.lifetimeDays !== null) addTo(consumables[c], i, weight);
  });
  const consumableCategories = categories.flatMap((_, c) => ((consumables[c]?.items.length ?? 0) >= 3 ? [c] : []));
  return {
    seed,
    startMs,
    endMs,
    catalog,
    indexBySku: new Map(catalog.map((p, i) => [p.sku, i])),
    categories,
    consumableCategories,
    categoryWeights: all.map((s) => s.cumulative[s.cumulative.length - 1] ?? 0),
    all,
    consumables,
  };
}

function addTo(sampler: Sampler | undefined, item: number, weight: number): void {
  if (sampler === undefined) return;
  const previous = sampler.cumulative[sampler.cumulative.length - 1] ?? 0;
  sampler.items.push(item);
  sampler.cumulative.push(previous + weight);
}

/** Draws a product index from a category sampler by popularity; -1 when the category is empty. */
export function sampleProduct(rng: Rng, sampler: Sampler | undefined): number {
  if (sampler === undefined || sampler.items.length === 0) return -1;
  const total = sampler.cumulative[sampler.cumulative.length - 1] ?? 0;
  const target = rng.next() * total;
  let lo = 0;
  let hi = sampler.items.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sampler.cumulative[mid] ?? 0) > target) hi = mid;
    else lo = mid + 1;
  }
  return sampler.items[lo] ?? -1;
}

/** Calendar months before `endMs`, in UTC, clamped to the end of shorter months. */
export function monthsBefore(endMs: number, months: number): number {
  const end = new Date(endMs);
  const whole = Math.floor(months);
  const start = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - whole, 1, end.getUTCHours(), end.getUTCMinutes(), end.getUTCSeconds(), end.getUTCMilliseconds()));
  const daysInMonth = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0)).getUTCDate();
  start.setUTCDate(Math.min(end.getUTCDate(), daysInMonth));
  // A fractional month is taken as 30.44 days.
  return start.getTime() - (months - whole) * 30.44 * 86_400_000;
}

/**
 * Sign-up times for customers 0..n-1, increasing with the index: a shop that grows over its
 * history, busier at weekends and in November–December. Customer i lands in the i-th of n
 * equal slices of the cumulative sign-up intensity, at a position drawn within it, so the times
 * come out sorted without ever holding them all.
 */
export function signupSchedule(startMs: number, endMs: number, n: number): (i: number, u: number) => number {
  const dayMs = 86_400_000;
  const days = Math.max(1, Math.ceil((endMs - startMs) / dayMs));
  const cumulative = new Float64Array(days + 1);
  for (let d = 0; d < days; d++) {
    const dayStart = startMs + d * dayMs;
    const date = new Date(dayStart);
    const growth = 1 + 1.5 * (d / days);
    const weekday = date.getUTCDay() === 0 || date.getUTCDay() === 6 ? 1.25 : 1;
    const month = date.getUTCMonth();
    const season = month === 10 ? 1.5 : month === 11 ? 1.35 : month === 0 ? 0.85 : 1;
    // The last day may be cut short by the end of the window.
    const length = Math.min(dayMs, endMs - dayStart) / dayMs;
    cumulative[d + 1] = (cumulative[d] ?? 0) + growth * weekday * season * length;
  }
  const total = cumulative[days] ?? 1;
  return (i, u) => {
    const target = ((i + u) / Math.max(1, n)) * total;
    let lo = 0;
    let hi = days - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((cumulative[mid] ?? 0) <= target) lo = mid;
      else hi = mid - 1;
    }
    const from = cumulative[lo] ?? 0;
    const to = cumulative[lo + 1] ?? from;
    const within = to > from ? (target - from) / (to - from) : 0;
    const dayStart = startMs + lo * dayMs;
    return Math.min(endMs, dayStart + within * Math.min(dayMs, endMs - dayStart));
  };
}
