// Text output of `tend recommend …`: tables a person reads on a terminal.
import type { Evaluation, FitResult, ProtocolResult, Recommendation } from '../../models/recommend/index.ts';
import type { ContactReplenishment, ReplenishmentProduct } from '../../models/replenishment/index.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);
const n = (x: number) => x.toLocaleString('en');

function table(header: string[], rows: string[][], alignRight: (column: number) => boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (alignRight(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

function protocolTable(p: ProtocolResult, k: number): string {
  return table(
    ['method', `recall@${k}`, `precision@${k}`, `NDCG@${k}`],
    p.methods.map((m) => [m.method, m.recall.toFixed(3), m.precision.toFixed(3), m.ndcg.toFixed(3)]),
    (i) => i > 0,
  );
}

/** The evaluation report: both protocols and the headline comparison with popularity. */
export function formatEvaluation(e: Evaluation): string {
  const days = Math.round((e.end.getTime() - e.cutoff.getTime()) / 86_400_000);
  const recall = (name: string) => e.newProducts.methods.find((m) => m.method === name)?.recall ?? 0;
  const ease = recall('EASE');
  const popularity = recall('popularity');
  const lift = popularity > 0 ? ` (${ease >= popularity ? '+' : ''}${Math.round((ease / popularity - 1) * 100)}%)` : '';
  return [
    `Trained on orders before ${day(e.cutoff)}: ${n(e.trainCustomers)} customers, ${n(e.products)} products. Tested on the ${days} days after it.`,
    `EASE λ = ${e.lambda.toFixed(1)}, related-products prior ${e.priorWeight}; fit in ${e.fitMs.toFixed(0)} ms.`,
    '',
    `New products (${n(e.newProducts.customers)} customers bought something they did not have):`,
    protocolTable(e.newProducts, e.k),
    '',
    `Everything bought, re-orders included (${n(e.everything.customers)} customers):`,
    protocolTable(e.everything, e.k),
    '',
    `recall@${e.k} on new products: EASE ${ease.toFixed(3)}, popularity ${popularity.toFixed(3)}${lift}.`,
  ].join('\n');
}

export function formatFit(r: FitResult): string {
  return [
    `Replenishment: ${n(r.replenishment.products)} products run out; ${n(r.replenishment.due)} contact due dates (${r.replenishment.ms} ms).`,
    `Recommender (EASE + bought together): ${n(r.products)} products, ${n(r.customers)} customers, λ = ${r.lambda.toFixed(1)}, ` +
      `${n(r.neighbourRows)} neighbour rows; trained on orders before ${r.trainedUntil.toISOString()}; fit in ${r.fitMs} ms.`,
  ].join('\n');
}

export function formatReplenishmentProducts(list: readonly ReplenishmentProduct[]): string {
  if (list.length === 0) return 'No product runs out, as far as the orders and lifetimes show.';
  return table(
    ['sku', 'product', 'every', 'repeats', 'source'],
    list.map((p) => [p.sku, p.name, `${p.intervalDays.toFixed(1)} d`, String(p.observations), p.source]),
    (i) => i === 2 || i === 3,
  );
}

export function formatContactReplenishment(list: readonly ContactReplenishment[]): string {
  if (list.length === 0) return 'Nothing to replenish for this contact.';
  return list.map((d) => `  ${d.status.padEnd(7)}  ${d.dueAt.toISOString().slice(0, 10)}  ${d.sku}  ${d.reason}`).join('\n');
}

export function formatRecommendations(list: readonly Recommendation[]): string {
  if (list.length === 0) return 'No recommendations.';
  return list.map((r, i) => `  ${String(i + 1).padStart(2)}. ${r.name} (${r.sku}): ${r.reason}`).join('\n');
}
