import type { Db } from '../../db/index.ts';
import type { Clock } from '../../core/clock.ts';
import { DAY_MS } from '../../core/clock.ts';
import { assertNever, fail, ok, type Result } from '../../core/result.ts';
import { isDueSoon, type ReplenishmentService } from '../replenishment/index.ts';
import { fitRecommender, relatedPairs, type FitOptions } from './fit.ts';
import { evaluateHoldout, type Evaluation, type EvaluationOptions } from './evaluate.ts';
import { boughtTogether, rankForContact, type NeighbourRow } from './rank.ts';
import { becauseReason, popularReason, togetherReason } from './reasons.ts';
import { readBaskets } from './sql/baskets.ts';
import { holdoutPairs } from './sql/holdout.ts';
import { saveModel, type ModelSummary } from './sql/save-model.ts';
import { contactItems } from './sql/contact-items.ts';

export type Recommendation = { sku: string; name: string; kind: 'replenish' | 'model' | 'popular' | 'together'; score: number; reason: string };

export type FitResult = ModelSummary & { neighbourRows: number; replenishment: { products: number; due: number; ms: number } };

const POPULAR_KEPT = 100;

/**
 * Recommendations: fits the item-item models (fit.ts) from the order history and stores each
 * product's neighbours; "bought together" reads them, "for you" combines them on demand with the
 * contact's own products and due replenishments (rank.ts).
 *
 * Why on demand rather than stored per contact: a contact's list is one small query (their
 * products) plus the neighbours of those products, a few milliseconds; it is current the moment
 * they order or a consumable falls due, without re-scoring every contact in batches; and storing
 * top-N per contact would cost contacts × N rows that are mostly never read.
 */
export function createRecommendationService({ db, clock, replenishment }: { db: Db; clock: Clock; replenishment: ReplenishmentService }) {
  async function names(workspaceId: string, skus: readonly string[]): Promise<Map<string, string>> {
    if (skus.length === 0) return new Map();
    const { rows } = await db.query<{ sku: string; name: string }>(`select sku, name from products where workspace_id = $1 and sku = any($2::text[])`, [workspaceId, skus]);
    return new Map(rows.map((r) => [r.sku, r.name]));
  }

  async function neighboursOf(workspaceId: string, skus: readonly string[]): Promise<Map<string, NeighbourRow[]>> {
    const { rows } = await db.query<{ sku: string; neighbour_sku: string; weight: number; similarity: number; co_customers: number }>(
      `select sku, neighbour_sku, weight, similarity, co_customers from product_neighbours where workspace_id = $1 and sku = any($2::text[])`,
      [workspaceId, skus],
    );
    const out = new Map<string, NeighbourRow[]>();
    for (const r of rows) {
      const list = out.get(r.sku) ?? [];
      list.push({ sku: r.neighbour_sku, weight: r.weight, similarity: r.similarity, coCustomers: r.co_customers });
      out.set(r.sku, list);
    }
    return out;
  }

  async function model(workspaceId: string): Promise<ModelSummary | null> {
    const { rows } = await db.query<{ method: string; lambda: number; products: number; customers: number; popular: ModelSummary['popular']; fit_ms: number; trained_until: Date; fitted_at: Date }>(
      `select * from recommendation_models where workspace_id = $1`,
      [workspaceId],
    );
    const r = rows[0];
    return r ? { method: r.method, lambda: r.lambda, products: r.products, customers: r.customers, popular: r.popular, fitMs: r.fit_ms, trainedUntil: r.trained_until, fittedAt: r.fitted_at } : null;
  }

  /** Fits replenishment and the recommender on the orders before `asOf` (default now) and stores both. */
  async function fit(workspaceId: string, options: FitOptions & { asOf?: Date } = {}): Promise<FitResult> {
    const now = clock.now();
    const asOf = options.asOf ?? now;
    const rep = await replenishment.fit(workspaceId);
    const catalog = await db.query<{ sku: string; related_skus: string[] }>(`select sku, related_skus from products where workspace_id = $1 order by sku`, [workspaceId]);
    const baskets: string[][] = [];
    for await (const b of readBaskets(db, workspaceId, asOf)) baskets.push(b.skus);
    const started = performance.now();
    const skus = [...new Set([...catalog.rows.map((r) => r.sku), ...baskets.flat()])].sort();
    const index = new Map(skus.map((s, i) => [s, i]));
    const related = relatedPairs(catalog.rows.map((r) => ({ sku: r.sku, relatedSkus: r.related_skus.filter((s) => index.has(s)) }))).map(([a, b]) => [index.get(a)!, index.get(b)!] as const);
    const fitted = fitRecommender({ skus, baskets: baskets.map((b) => b.map((s) => index.get(s)!)), related }, options);
    const fitMs = Math.round(performance.now() - started);
    const popular = [...fitted.buyers]
      .map((n, i) => ({ sku: skus[i]!, customers: n }))
      .filter((p) => p.customers > 0)
      .sort((a, b) => b.customers - a.customers || (a.sku < b.sku ? -1 : 1))
      .slice(0, POPULAR_KEPT);
    const summary: ModelSummary = { method: 'ease', lambda: fitted.lambda, products: skus.length, customers: fitted.customers, popular, fitMs, trainedUntil: asOf, fittedAt: now };
    const neighbourRows = await db.transaction((tx) => saveModel(tx, workspaceId, fitted, summary));
    return { ...summary, neighbourRows, replenishment: rep };
  }

  /** The stored model, fitting it first if the workspace has none yet. */
  async function ensureModel(workspaceId: string): Promise<ModelSummary> {
    return (await model(workspaceId)) ?? (await fit(workspaceId));
  }

  return {
    fit,
    model,

    /** "Bought together" for a product; null when Tend knows nothing of the sku. */
    async forProduct(workspaceId: string, sku: string, limit = 10): Promise<{ sku: string; name: string; recommendations: Recommendation[] } | null> {
      await ensureModel(workspaceId);
      const neighbours = (await neighboursOf(workspaceId, [sku])).get(sku) ?? [];
      const top = boughtTogether(neighbours, limit);
      const known = await names(workspaceId, [sku, ...top.map((n) => n.sku)]);
      if (!known.has(sku) && neighbours.length === 0) return null;
      const name = known.get(sku) ?? sku;
      return {
        sku,
        name,
        recommendations: top.map((n) => ({ sku: n.sku, name: known.get(n.sku) ?? n.sku, kind: 'together', score: n.similarity, reason: togetherReason(name, n.coCustomers) })),
      };
    },

    /** "For you": due replenishments, then what customers like this one bought, then best sellers. */
    async forContact(workspaceId: string, contactId: number, limit = 10): Promise<Recommendation[]> {
      const summary = await ensureModel(workspaceId);
      const now = clock.now();
      const [owned, due] = await Promise.all([contactItems(db, workspaceId, contactId), replenishment.forContact(workspaceId, contactId)]);
      const dueSoon = due.filter((d) => isDueSoon(d.dueAt, d.intervalDays, now, replenishment.dueSoonDays));
      const neighbours = await neighboursOf(workspaceId, owned);
      const ranked = rankForContact({ owned, neighbours: (s) => neighbours.get(s), dueSoon, popular: summary.popular, limit });
      const known = await names(workspaceId, [...new Set([...ranked.map((r) => r.sku), ...ranked.flatMap((r) => (r.kind === 'model' ? [r.because.sku] : []))])]);
      const dueBySku = new Map(dueSoon.map((d) => [d.sku, d]));
      return ranked.map((r) => {
        const name = known.get(r.sku) ?? r.sku;
        switch (r.kind) {
          case 'replenish': {
            const d = dueBySku.get(r.sku);
            const days = Math.round((r.dueAt.getTime() - now.getTime()) / DAY_MS);
            return { sku: r.sku, name, kind: r.kind, score: days, reason: d?.reason ?? `due for replenishment` };
          }
          case 'model':
            return { sku: r.sku, name, kind: r.kind, score: r.score, reason: becauseReason(known.get(r.because.sku) ?? r.because.sku, r.because.coCustomers) };
          case 'popular':
            return { sku: r.sku, name, kind: r.kind, score: r.customers, reason: popularReason(r.customers) };
          default:
            return assertNever(r);
        }
      });
    },

    /**
     * The offline evaluation on this workspace's orders: train before the cutoff, test on the
     * `testDays` after it. The test window ends at the last order before now, so a shop whose
     * history stopped a while ago is still evaluated on real purchases.
     */
    async evaluate(workspaceId: string, options: EvaluationOptions & { testDays?: number; cutoff?: Date } = {}): Promise<Result<Evaluation>> {
      const now = clock.now();
      const { rows } = await db.query<{ last: Date | null }>(
        `select max(ordered_at) as last from orders where workspace_id = $1 and status = 'completed' and ordered_at <= $2`,
        [workspaceId, now],
      );
      const last = rows[0]?.last;
      if (!last) return fail({ code: 'not_found', message: 'there are no completed orders to evaluate on' });
      const end = new Date(last.getTime() + 1);
      const cutoff = options.cutoff ?? new Date(end.getTime() - (options.testDays ?? 90) * DAY_MS);
      if (cutoff.getTime() >= last.getTime()) {
        return fail({ code: 'invalid', field: 'cutoff', message: `the cutoff must be before the last order (${last.toISOString()}), so that there is something to test on` });
      }
      const catalog = await db.query<{ sku: string; related_skus: string[] }>(`select sku, related_skus from products where workspace_id = $1`, [workspaceId]);
      const related = relatedPairs(catalog.rows.map((r) => ({ sku: r.sku, relatedSkus: r.related_skus })));
      const pairs = await holdoutPairs(db, workspaceId, cutoff, end);
      const intervals = await replenishment.learn(workspaceId, cutoff);
      const due = await replenishment.dueAsOf(workspaceId, cutoff, intervals);
      return ok(evaluateHoldout({ cutoff, end, pairs, related, due }, { ...options, dueSoonDays: options.dueSoonDays ?? replenishment.dueSoonDays }));
    },
  };
}

export type RecommendationService = ReturnType<typeof createRecommendationService>;
