/**
 * Top-k ranking metrics for the offline evaluation, per user; the evaluation averages them.
 * Recall is normalised by min(k, |relevant|), as in Liang et al. 2018 ("Variational Autoencoders
 * for Collaborative Filtering") and Steck 2019, so a customer who bought 15 new products can still
 * score 1 with a perfect top 10.
 */

export type TopK = { recall: number; precision: number; ndcg: number };

/** recall@k, precision@k and NDCG@k (binary relevance) of one ranked list. */
export function topK(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): TopK {
  if (relevant.size === 0) return { recall: 0, precision: 0, ndcg: 0 };
  let hits = 0;
  let dcg = 0;
  const top = ranked.slice(0, k);
  top.forEach((sku, i) => {
    if (relevant.has(sku)) {
      hits++;
      dcg += 1 / Math.log2(i + 2);
    }
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return { recall: hits / Math.min(k, relevant.size), precision: hits / k, ndcg: dcg / ideal };
}
