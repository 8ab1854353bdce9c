/**
 * Fitting the item-item recommender from who bought what. Pure: baskets in, neighbours out.
 *
 * Two item-item models share one co-occurrence (Gram) matrix C = XᵀX, where X is the binary
 * customer × product matrix of the training period:
 *
 * - "Bought together" uses a shrunk cosine over customers, sim(i,j) = c_ij / √(c_ii·c_jj) ·
 *   c_ij / (c_ij + β). Cosine corrects for popularity (a best seller co-occurs with everything);
 *   the shrinkage factor discounts pairs seen only a handful of times (Koren 2008, "Factorization
 *   meets the neighborhood", §2.2). It is also the easiest score to explain to a marketer: the
 *   reason quotes c_ij, the number of customers who bought both.
 * - "For you" uses EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): the
 *   closed-form ridge regression of every item on all others with a zero diagonal,
 *   P = (C + λI)⁻¹, B = I − P·diagMat(1/diag(P)). A contact's scores are x·B. Unlike cosine
 *   neighbours, B's weights are fitted jointly, so two products that only co-occur because both
 *   go with a third do not double-count. On public data sets it matches or beats deep models.
 *
 * The shop's own "related products" enter as a prior: each related pair counts as `priorWeight`
 * virtual customers who bought exactly that pair. Adding whole virtual customers (to c_ii, c_jj
 * and c_ij) keeps C positive semi-definite, and it gives a brand-new shop sensible suggestions
 * before it has any history.
 */
import { invertSpd, zeros, type Matrix } from './linalg.ts';

/** The training data: products by index, and the distinct products each customer bought. */
export type FitInput = {
  skus: readonly string[];
  baskets: Iterable<readonly number[]>;
  /** Pairs of related products (the catalog's related_skus), by index. */
  related?: Iterable<readonly [number, number]>;
};

export type FitOptions = {
  /** EASE's L2 penalty λ; default: the mean number of buyers per bought product (see {@link defaultLambda}). */
  lambda?: number;
  /** Virtual customers per related pair (default 2; 0 turns the prior off). */
  priorWeight?: number;
  /** Neighbours kept per product, by each score (default 50). */
  neighbours?: number;
  /** Cosine shrinkage β (default 5). */
  shrinkage?: number;
};

export type Neighbour = {
  item: number;
  /** EASE weight B[i][j]: how much owning i raises j's "for you" score. */
  weight: number;
  /** Shrunk cosine: how strongly j is bought together with i. */
  similarity: number;
  /** Customers (real ones) who bought both. */
  coCustomers: number;
};

export type FittedRecommender = {
  skus: readonly string[];
  customers: number;
  lambda: number;
  /** Customers who bought each product. */
  buyers: Float64Array;
  /** Per product, its strongest neighbours by EASE weight and by similarity (the union). */
  neighbours: Neighbour[][];
};

/**
 * EASE's λ scales with the counts in C: a product bought by 500 customers needs a larger penalty
 * than one bought by 5 for the same amount of smoothing. The default is the mean diagonal of C
 * over bought products, which on the demo shop sits on the flat top of the recall-vs-λ curve
 * (docs/recommendations.md has the sweep); `tend recommend evaluate --lambda` tries others.
 */
export function defaultLambda(buyers: Float64Array): number {
  let sum = 0;
  let count = 0;
  for (const b of buyers) {
    if (b <= 0) continue;
    sum += b;
    count++;
  }
  return count === 0 ? 1 : Math.max(1, sum / count);
}

/**
 * EASE's weights from a Gram matrix: B = I − P·diagMat(1/diag(P)) with P = (G + λI)⁻¹, that is
 * B[i][j] = −P[i][j] / P[j][j] off the diagonal and 0 on it. `gram` is left unchanged.
 */
export function easeWeights(gram: Matrix, lambda: number): Matrix {
  const n = gram.n;
  const a = { n, data: new Float64Array(gram.data) };
  for (let i = 0; i < n; i++) a.data[i * n + i]! += lambda;
  const p = invertSpd(a, { overwrite: true }).data;
  const b = p; // B overwrites P in place; the diagonal it divides by is copied out first
  const diagonal = new Float64Array(n);
  for (let j = 0; j < n; j++) diagonal[j] = p[j * n + j]!;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i * n + j] = i === j ? 0 : -p[i * n + j]! / diagonal[j]!;
  return { n, data: b };
}

/** The catalog's related products as unordered pairs, each once, whichever side listed the other. */
export function relatedPairs(catalog: readonly { sku: string; relatedSkus: readonly string[] }[]): [string, string][] {
  const seen = new Map<string, [string, string]>();
  for (const p of catalog) {
    for (const other of p.relatedSkus) {
      if (other === p.sku) continue;
      const pair: [string, string] = p.sku < other ? [p.sku, other] : [other, p.sku];
      seen.set(`${pair[0]}\u0000${pair[1]}`, pair);
    }
  }
  return [...seen.values()];
}

/** Fits both item-item models from baskets; see the file comment for the methods. */
export function fitRecommender(input: FitInput, options: FitOptions = {}): FittedRecommender {
  const n = input.skus.length;
  const keep = options.neighbours ?? 50;
  const beta = options.shrinkage ?? 5;
  const prior = options.priorWeight ?? 2;
  const counts = zeros(n).data;
  let customers = 0;
  for (const basket of input.baskets) {
    customers++;
    for (let a = 0; a < basket.length; a++) {
      const i = basket[a]!;
      const row = i * n;
      for (let b = 0; b < basket.length; b++) counts[row + basket[b]!]! += 1;
    }
  }
  const buyers = new Float64Array(n);
  for (let i = 0; i < n; i++) buyers[i] = counts[i * n + i]!;
  const lambda = options.lambda ?? defaultLambda(buyers);

  // C with the prior's virtual customers, then + λI for EASE.
  const gram = zeros(n);
  const g = gram.data;
  g.set(counts);
  if (prior > 0) {
    for (const [i, j] of input.related ?? []) {
      if (i === j) continue;
      g[i * n + i]! += prior;
      g[j * n + j]! += prior;
      g[i * n + j]! += prior;
      g[j * n + i]! += prior;
    }
  }
  const similarity = (i: number, j: number): number => {
    const c = g[i * n + j]!;
    if (c <= 0) return 0;
    return (c / Math.sqrt(g[i * n + i]! * g[j * n + j]!)) * (c / (c + beta));
  };
  const weights = easeWeights(gram, lambda).data;

  const neighbours: Neighbour[][] = [];
  for (let i = 0; i < n; i++) {
    const candidates: Neighbour[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const weight = weights[i * n + j]!;
      const sim = similarity(i, j);
      if (weight > 0 || sim > 0) candidates.push({ item: j, weight, similarity: sim, coCustomers: counts[i * n + j]! });
    }
    const chosen = new Set<Neighbour>();
    for (const key of ['weight', 'similarity'] as const) {
      candidates
        .filter((c) => c[key] > 0)
        .sort((x, y) => y[key] - x[key] || x.item - y.item)
        .slice(0, keep)
        .forEach((c) => chosen.add(c));
    }
    neighbours.push([...chosen].sort((x, y) => y.weight - x.weight || x.item - y.item));
  }
  return { skus: input.skus, customers, lambda, buyers, neighbours };
}
