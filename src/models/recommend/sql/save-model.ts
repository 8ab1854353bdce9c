import type { Queryable } from '../../../db/index.ts';
import type { FittedRecommender } from '../fit.ts';

export type ModelSummary = { method: string; lambda: number; products: number; customers: number; popular: { sku: string; customers: number }[]; fitMs: number; trainedUntil: Date; fittedAt: Date };

/**
 * Replaces a workspace's stored recommender: its neighbour rows and its summary row. Run inside a
 * transaction, so readers see the old model or the new one, never half of each. The neighbours go
 * in as parallel arrays through unnest in chunks of 20,000, one round trip per chunk instead of one
 * per row (a shop of 2,000 products with 100 neighbours each has 200,000 rows).
 */
export async function saveModel(tx: Queryable, workspaceId: string, model: FittedRecommender, summary: ModelSummary): Promise<number> {
  await tx.query(`delete from product_neighbours where workspace_id = $1`, [workspaceId]);
  const rows = model.neighbours.flatMap((list, i) => list.map((n) => ({ sku: model.skus[i]!, n })));
  for (let start = 0; start < rows.length; start += 20_000) {
    const chunk = rows.slice(start, start + 20_000);
    await tx.query(
      `insert into product_neighbours (workspace_id, sku, neighbour_sku, weight, similarity, co_customers)
       select $1, * from unnest($2::text[], $3::text[], $4::float8[], $5::float8[], $6::int[])`,
      [workspaceId, chunk.map((r) => r.sku), chunk.map((r) => model.skus[r.n.item]!), chunk.map((r) => r.n.weight), chunk.map((r) => r.n.similarity), chunk.map((r) => r.n.coCustomers)],
    );
  }
  await tx.query(
    `insert into recommendation_models (workspace_id, method, lambda, products, customers, popular, fit_ms, trained_until, fitted_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (workspace_id) do update set method = excluded.method, lambda = excluded.lambda, products = excluded.products,
       customers = excluded.customers, popular = excluded.popular, fit_ms = excluded.fit_ms, trained_until = excluded.trained_until, fitted_at = excluded.fitted_at`,
    [workspaceId, summary.method, summary.lambda, summary.products, summary.customers, JSON.stringify(summary.popular), summary.fitMs, summary.trainedUntil, summary.fittedAt],
  );
  return rows.length;
}
