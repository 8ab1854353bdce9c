import type { Queryable } from '../db/index.ts';

export type ProductInput = {
  sku: string;
  name: string;
  category?: string | null;
  price?: number | null;
  currency?: string | null;
  url?: string | null;
  imageUrl?: string | null;
  lifetimeDays?: number | null;
  relatedSkus?: string[];
  upgradeSkus?: string[];
  properties?: Record<string, unknown>;
};

/**
 * Inserts or replaces products (the catalog import and the demo use this). Re-running the same
 * input changes nothing but `updated_at`, and only where a value differs.
 */
export async function upsertProducts(tx: Queryable, workspaceId: string, products: readonly ProductInput[], now: Date): Promise<void> {
  if (products.length === 0) return;
  // Sorted, so concurrent imports lock the same keys in the same order and cannot deadlock.
  const sorted = [...products].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  const col = <T>(f: (p: ProductInput) => T) => sorted.map(f);
  await tx.query(
    `insert into products (workspace_id, sku, name, category, price, currency, url, image_url, lifetime_days, related_skus, upgrade_skus, properties, created_at, updated_at)
     select $1, s, n, c, p, cur, u, i, l,
            coalesce((select array_agg(x) from jsonb_array_elements_text(r) x), '{}'),
            coalesce((select array_agg(x) from jsonb_array_elements_text(g) x), '{}'),
            props, $13, $13
       from unnest($2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::text[], $8::text[], $9::int[], $10::jsonb[], $11::jsonb[], $12::jsonb[])
         as t(s, n, c, p, cur, u, i, l, r, g, props)
     on conflict (workspace_id, sku) do update set
       name = excluded.name, category = excluded.category, price = excluded.price, currency = excluded.currency, url = excluded.url,
       image_url = excluded.image_url, lifetime_days = excluded.lifetime_days, related_skus = excluded.related_skus,
       upgrade_skus = excluded.upgrade_skus, properties = excluded.properties, updated_at = excluded.updated_at
     where (products.name, products.category, products.price, products.currency, products.url, products.image_url, products.lifetime_days,
            products.related_skus, products.upgrade_skus, products.properties)
       is distinct from (excluded.name, excluded.category, excluded.price, excluded.currency, excluded.url, excluded.image_url,
            excluded.lifetime_days, excluded.related_skus, excluded.upgrade_skus, excluded.properties)`,
    [
      workspaceId,
      col((p) => p.sku),
      col((p) => p.name),
      col((p) => p.category ?? null),
      col((p) => p.price ?? null),
      col((p) => p.currency ?? null),
      col((p) => p.url ?? null),
      col((p) => p.imageUrl ?? null),
      col((p) => p.lifetimeDays ?? null),
      col((p) => JSON.stringify(p.relatedSkus ?? [])),
      col((p) => JSON.stringify(p.upgradeSkus ?? [])),
      col((p) => JSON.stringify(p.properties ?? {})),
      now,
    ],
  );
}
