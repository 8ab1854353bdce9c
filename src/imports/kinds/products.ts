import { z } from 'zod';
import { upsertProducts, type ProductInput } from '../../catalog/index.ts';
import { httpUrl, identifier, money, currency, skuList, text, wholeNumber } from '../fields.ts';
import type { ImportKind } from '../types.ts';
import { extras, lastWins } from './shared.ts';

const known = {
  sku: identifier(200),
  name: text(500),
  category: text(200).optional(),
  price: money.optional(),
  currency: currency.optional(),
  url: httpUrl.optional(),
  image_url: httpUrl.optional(),
  lifetime_days: wholeNumber(1, 36_500).optional(),
  related_skus: skuList.optional(),
  upgrade_skus: skuList.optional(),
};

/** One row of a products file: the product it describes. Other columns become `properties`. */
export const ProductRow = z
  .object(known)
  .catchall(z.string().max(10_000, { error: 'is too long (at most 10,000 characters)' }))
  .transform(
    (r): ProductInput => ({
      sku: r.sku,
      name: r.name,
      category: r.category ?? null,
      price: r.price ?? null,
      currency: r.currency ?? null,
      url: r.url ?? null,
      imageUrl: r.image_url ?? null,
      lifetimeDays: r.lifetime_days ?? null,
      relatedSkus: r.related_skus ?? [],
      upgradeSkus: r.upgrade_skus ?? [],
      properties: extras(r, known),
    }),
  );

/** The catalog: one row per product, keyed by sku. A row replaces the stored product. */
export const productsKind: ImportKind<ProductInput> = {
  name: 'products',
  columns: [
    { name: 'sku', type: 'text, up to 200 characters', required: true, description: 'Your product code. The key: importing a sku again replaces that product.' },
    { name: 'name', type: 'text, up to 500 characters', required: true, description: 'The product name shown in messages.' },
    { name: 'category', type: 'text, up to 200 characters', required: false, description: 'Used by cross-sell and segments.' },
    { name: 'price', type: 'decimal ≥ 0, e.g. 19.99', required: false, description: 'Current price, rounded to cents.' },
    { name: 'currency', type: 'ISO 4217 code, e.g. EUR', required: false, description: 'Currency of the price.' },
    { name: 'url', type: 'http(s) address', required: false, description: 'The product page.' },
    { name: 'image_url', type: 'http(s) address', required: false, description: 'A product image for emails.' },
    { name: 'lifetime_days', type: 'whole number 1–36500', required: false, description: 'How long one unit lasts; drives replenishment reminders. Blank for durable goods.' },
    { name: 'related_skus', type: 'skus separated by a vertical bar', required: false, description: 'Cross-sell: products that go with this one (may name products imported later).' },
    { name: 'upgrade_skus', type: 'skus separated by a vertical bar', required: false, description: 'Upsell: the better versions of this product.' },
  ],
  requiredHeaders: [['sku'], ['name']],
  extraColumns: 'properties',
  schema: ProductRow,
  async write(ctx, rows) {
    // The same sku twice in one batch would make one INSERT … ON CONFLICT touch a row twice, which
    // Postgres refuses; the later line wins, as it would in two batches.
    const products = lastWins(rows, (p) => p.sku).map((r) => r.value);
    await ctx.db.transaction((tx) => upsertProducts(tx, ctx.workspaceId, products, ctx.now));
    return [];
  },
};
