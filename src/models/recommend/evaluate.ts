/**
 * Offline evaluation on a time-based hold-out: fit on the orders before a cutoff, recommend to
 * every customer as of the cutoff, and compare with what they bought in the test window after it.
 * A time split (rather than random held-out items) is what a shop lives: the model only ever sees
 * the past, and the products in demand drift. Pure; the service reads the data.
 *
 * Two protocols:
 * - new products: the test is the products a customer bought after the cutoff and never before,
 *   and every method ranks only products they do not have. This measures cross-selling, the part
 *   that needs a model, and is the classic comparison with a popularity baseline.
 * - everything bought: the test is every product bought after the cutoff, re-orders included, and
 *   "for you" follows its production rules (owned products only when due for replenishment).
 */
import { DAY_MS } from '../../core/clock.ts';
import { isDueSoon } from '../replenishment/index.ts';
import { fitRecommender, type FitOptions } from './fit.ts';
import { topK } from './metrics.ts';
import { rankForContact, type NeighbourRow, type RankInput } from './rank.ts';
import type { HoldoutPair } from './sql/holdout.ts';

export type EvaluationData = {
  cutoff: Date;
  end: Date;
  pairs: readonly HoldoutPair[];
  /** The catalog's related pairs, the prior. */
  related: readonly (readonly [string, string])[];
  /** Due dates as of the cutoff, from intervals learned before it. */
  due: readonly { contactId: number; sku: string; dueAt: Date; intervalDays: number }[];
};

export type EvaluationOptions = FitOptions & {
  k?: number;
  /** Window of the recent-popularity baseline, in days before the cutoff (default 90). */
  recentDays?: number;
  /** Due within this many days of the cutoff counts as due soon (default 14). */
  dueSoonDays?: number;
};

export type MethodResult = { method: string; recall: number; precision: number; ndcg: number };
export type ProtocolResult = { customers: number; methods: MethodResult[] };

export type Evaluation = {
  cutoff: Date;
  end: Date;
  k: number;
  lambda: number;
  priorWeight: number;
  trainCustomers: number;
  products: number;
  fitMs: number;
  newProducts: ProtocolResult;
  everything: ProtocolResult;
};

/** Runs both protocols for the popularity baselines, item-kNN (cosine) and EASE. */
export function evaluateHoldout(data: EvaluationData, options: EvaluationOptions = {}): Evaluation {
  const k = options.k ?? 10;
  const recentFrom = data.cutoff.getTime() - (options.recentDays ?? 90) * DAY_MS;
  const dueSoonDays = options.dueSoonDays ?? 14;

  const skus = [...new Set([...data.pairs.map((p) => p.sku), ...data.related.flat()])].sort();
  const index = new Map(skus.map((s, i) => [s, i]));
  const customers = new Map<number, { train: string[]; test: string[] }>();
  const allTime = new Map<string, number>();
  const recent = new Map<string, number>();
  for (const p of data.pairs) {
    let c = customers.get(p.contactId);
    if (!c) customers.set(p.contactId, (c = { train: [], test: [] }));
    if (p.train) {
      c.train.push(p.sku);
      allTime.set(p.sku, (allTime.get(p.sku) ?? 0) + 1);
      if (p.lastBefore && p.lastBefore.getTime() >= recentFrom) recent.set(p.sku, (recent.get(p.sku) ?? 0) + 1);
    }
    if (p.test) c.test.push(p.sku);
  }
  const trained = [...customers.values()].filter((c) => c.train.length > 0);

  const started = performance.now();
  const model = fitRecommender(
    {
      skus,
      baskets: trained.map((c) => c.train.map((s) => index.get(s)!)),
      related: data.related.map(([a, b]) => [index.get(a)!, index.get(b)!] as const),
    },
    options,
  );
  const fitMs = performance.now() - started;
  const neighbours = new Map<string, NeighbourRow[]>(
    model.neighbours.map((list, i) => [skus[i]!, list.map((n) => ({ sku: skus[n.item]!, weight: n.weight, similarity: n.similarity, coCustomers: n.coCustomers }))]),
  );
  const ranking = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([sku, n]) => ({ sku, customers: n }));
  const popular = ranking(allTime);
  const popularRecent = ranking(recent);

  const dueSoon = new Map<number, { sku: string; dueAt: Date }[]>();
  for (const d of data.due) {
    if (!isDueSoon(d.dueAt, d.intervalDays, data.cutoff, dueSoonDays)) continue;
    const list = dueSoon.get(d.contactId) ?? [];
    list.push({ sku: d.sku, dueAt: d.dueAt });
    dueSoon.set(d.contactId, list);
  }

  type Method = { method: string; rank: (owned: string[], contactId: number) => string[] };
  const rank = (extra: Omit<RankInput, 'owned' | 'limit'>) => (owned: string[]) => rankForContact({ ...extra, owned, limit: k }).map((r) => r.sku);
  const none = () => undefined;
  const byNeighbours = (sku: string) => neighbours.get(sku);
  const protocol = (methods: Method[], relevantOf: (c: { train: string[]; test: string[] }) => Set<string>): ProtocolResult => {
    const sums = methods.map(() => ({ recall: 0, precision: 0, ndcg: 0 }));
    let users = 0;
    for (const [contactId, c] of customers) {
      if (c.train.length === 0) continue;
      const relevant = relevantOf(c);
      if (relevant.size === 0) continue;
      users++;
      methods.forEach((m, i) => {
        const r = topK(m.rank(c.train, contactId), relevant, k);
        sums[i]!.recall += r.recall;
        sums[i]!.precision += r.precision;
        sums[i]!.ndcg += r.ndcg;
      });
    }
    const mean = (x: number) => (users === 0 ? 0 : x / users);
    return { customers: users, methods: methods.map((m, i) => ({ method: m.method, recall: mean(sums[i]!.recall), precision: mean(sums[i]!.precision), ndcg: mean(sums[i]!.ndcg) })) };
  };

  const newProducts = protocol(
    [
      { method: 'popularity', rank: rank({ neighbours: none, popular }) },
      { method: 'popularity, last 90 days', rank: rank({ neighbours: none, popular: popularRecent }) },
      { method: 'item-kNN (cosine)', rank: rank({ neighbours: byNeighbours, popular, by: 'similarity' }) },
      { method: 'EASE', rank: rank({ neighbours: byNeighbours, popular }) },
    ],
    (c) => {
      const owned = new Set(c.train);
      return new Set(c.test.filter((s) => !owned.has(s)));
    },
  );
  const dueOf = (contactId: number) => dueSoon.get(contactId) ?? [];
  const everything = protocol(
    [
      { method: 'popularity', rank: rank({ neighbours: none, popular }) },
      { method: 'popularity + replenishment', rank: (owned, id) => rankForContact({ owned, neighbours: none, popular, dueSoon: dueOf(id), limit: k }).map((r) => r.sku) },
      { method: 'for you (replenishment + EASE)', rank: (owned, id) => rankForContact({ owned, neighbours: byNeighbours, popular, dueSoon: dueOf(id), limit: k }).map((r) => r.sku) },
    ],
    (c) => new Set(c.test),
  );
  return {
    cutoff: data.cutoff, end: data.end, k, lambda: model.lambda, priorWeight: options.priorWeight ?? 2,
    trainCustomers: trained.length, products: skus.length, fitMs, newProducts, everything,
  };
}
