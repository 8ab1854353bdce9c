// The numerical core, without a database: the SPD inverse, EASE's closed form, the ranking rules
// and the metrics.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { invertSpd, zeros, type Matrix } from '../../src/models/recommend/linalg.ts';
import { easeWeights, fitRecommender, relatedPairs } from '../../src/models/recommend/fit.ts';
import { rankForContact } from '../../src/models/recommend/rank.ts';
import { topK } from '../../src/models/recommend/metrics.ts';

// A deterministic pseudo-random stream (xorshift) so failures reproduce.
function stream(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function gramOf(baskets: number[][], n: number): Matrix {
  const g = zeros(n);
  for (const b of baskets) for (const i of b) for (const j of b) g.data[i * n + j]! += 1;
  return g;
}

function multiply(a: Matrix, b: Matrix): Matrix {
  const n = a.n;
  const out = zeros(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) out.data[i * n + j]! += a.data[i * n + k]! * b.data[k * n + j]!;
  return out;
}

describe('recommendation maths', () => {
  it('inverts a symmetric positive-definite matrix to machine precision', () => {
    const random = stream(7);
    const n = 150;
    const baskets = Array.from({ length: 400 }, () => Array.from(new Set(Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.floor(random() * n)))));
    const a = gramOf(baskets, n);
    for (let i = 0; i < n; i++) a.data[i * n + i]! += 3;
    const copy = new Float64Array(a.data);
    const product = multiply(a, invertSpd(a));
    assert.deepEqual(a.data, copy, 'the input is left as it was');
    let worst = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(product.data[i * n + j]! - (i === j ? 1 : 0)));
    assert.ok(worst < 1e-10, `max |A·A⁻¹ − I| = ${worst}`);
  });

  it('refuses a matrix that is not positive definite', () => {
    assert.throws(() => invertSpd({ n: 2, data: new Float64Array([1, 2, 2, 1]) }), /not positive definite/);
  });

  it("gives EASE's constrained least-squares solution: zero diagonal, and (G + λI)·B − G zero off the diagonal", () => {
    // Steck 2019, eq. 4–8: B minimises ‖X − XB‖² + λ‖B‖² subject to diag(B) = 0; the Lagrangian's
    // stationarity condition is (G + λI)·B − G = −diagMat(μ), which vanishes off the diagonal.
    const random = stream(11);
    const n = 25;
    const baskets = Array.from({ length: 300 }, () => Array.from(new Set(Array.from({ length: 1 + Math.floor(random() * 5) }, () => Math.floor(random() * n)))));
    const g = gramOf(baskets, n);
    const lambda = 7;
    const b = easeWeights(g, lambda);
    const a = { n, data: new Float64Array(g.data) };
    for (let i = 0; i < n; i++) a.data[i * n + i]! += lambda;
    const r = multiply(a, b);
    for (let i = 0; i < n; i++) {
      assert.equal(b.data[i * n + i], 0);
      for (let j = 0; j < n; j++) if (i !== j) assert.ok(Math.abs(r.data[i * n + j]! - g.data[i * n + j]!) < 1e-9, `(${i}, ${j})`);
    }
  });

  it('keeps the strongest neighbours by both scores and counts real co-customers apart from the prior', () => {
    // 0 and 1 always together; 2 with 0 once; 3 alone; 3 and 4 related in the catalog only.
    const baskets = [...Array.from({ length: 6 }, () => [0, 1]), [0, 2], [3], [3]];
    const model = fitRecommender({ skus: ['A', 'B', 'C', 'D', 'E'], baskets, related: [[3, 4]] }, { lambda: 1, neighbours: 1 });
    assert.equal(model.customers, 9);
    assert.deepEqual([...model.buyers], [7, 6, 1, 2, 0]);
    assert.deepEqual(model.neighbours[0]!.map((n) => [n.item, n.coCustomers]), [[1, 6]]);
    const d = model.neighbours[3]!;
    assert.deepEqual(d.map((n) => [n.item, n.coCustomers]), [[4, 0]]);
    assert.ok(d[0]!.similarity > 0 && d[0]!.weight > 0);
  });

  it('reads related products from either side, once per pair', () => {
    assert.deepEqual(relatedPairs([{ sku: 'B', relatedSkus: ['A', 'B'] }, { sku: 'A', relatedSkus: ['B', 'C'] }]), [['A', 'B'], ['A', 'C']]);
  });

  it('ranks due consumables first, then the model, then best sellers, never twice and never what is owned', () => {
    const neighbours = new Map([
      ['KETTLE', [{ sku: 'TEA', weight: 0.5, similarity: 0.4, coCustomers: 9 }, { sku: 'FILTER', weight: 0.3, similarity: 0.2, coCustomers: 4 }]],
      ['MUG', [{ sku: 'TEA', weight: 0.2, similarity: 0.1, coCustomers: 2 }, { sku: 'SPOON', weight: 0.6, similarity: 0.3, coCustomers: 5 }, { sku: 'KETTLE', weight: 0.9, similarity: 0.9, coCustomers: 20 }]],
    ]);
    const ranked = rankForContact({
      owned: ['KETTLE', 'MUG', 'FILTER'],
      neighbours: (s) => neighbours.get(s),
      dueSoon: [{ sku: 'FILTER', dueAt: new Date('2026-05-02') }],
      popular: [{ sku: 'TEA', customers: 100 }, { sku: 'MUG', customers: 90 }, { sku: 'CAKE', customers: 50 }],
      limit: 4,
    });
    assert.deepEqual(ranked.map((r) => [r.sku, r.kind]), [['FILTER', 'replenish'], ['TEA', 'model'], ['SPOON', 'model'], ['CAKE', 'popular']]);
    const tea = ranked[1]!;
    assert.ok(tea.kind === 'model' && Math.abs(tea.score - 0.7) < 1e-12 && tea.because.sku === 'KETTLE', 'scores add up; the biggest contributor is the reason');
    const excluded = rankForContact({ owned: ['MUG'], neighbours: (s) => neighbours.get(s), popular: [], limit: 5, exclude: new Set(['SPOON']) });
    assert.deepEqual(excluded.map((r) => r.sku), ['KETTLE', 'TEA']);
  });

  it('computes recall, precision and NDCG at k', () => {
    const r = topK(['a', 'x', 'b', 'y'], new Set(['a', 'b', 'c']), 2);
    assert.deepEqual(r, { recall: 0.5, precision: 0.5, ndcg: 1 / (1 + 1 / Math.log2(3)) });
    assert.equal(topK(['a', 'b'], new Set(['b', 'a']), 10).recall, 1, 'recall is normalised by min(k, relevant)');
  });
});
