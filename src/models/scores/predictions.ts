/**
 * Predictions per customer, computed on the fly with the latest fit as of any day (for exports
 * and back-tests), page by page so that an export of a million customers streams.
 */
import type { Queryable } from '../../db/index.ts';
import { csvLine } from '../../imports/index.ts';
import { createScorer } from './score.ts';
import { dayString } from './inputs.ts';
import { inputsOf, readScorePage } from './pages.ts';
import type { ScoreContext } from './scorer.ts';

/** One exported row; the model inputs (frequency = x, recency = t_x, T) are in the fit's time unit. */
export type Prediction = {
  user_id: string | null;
  contact_id: number;
  frequency: number;
  recency: number;
  T: number;
  p_alive: number | null;
  churn_risk: number | null;
  expected_purchases_90d: number | null;
  expected_next_order_at: string | null;
  predicted_clv: number | null;
  rfm_cell: string | null;
  lifecycle_stage: string;
};

export const predictionColumns = [
  'user_id', 'frequency', 'recency', 'T', 'p_alive', 'churn_risk', 'expected_purchases_90d',
  'expected_next_order_at', 'predicted_clv', 'rfm_cell', 'lifecycle_stage',
] as const;

/** One page of predictions for the customers with contact ids above `after`. */
export async function predictionsPage(
  db: Queryable,
  workspaceId: string,
  ctx: ScoreContext,
  options: { asOf: string; after: number; limit: number; score?: ReturnType<typeof createScorer> },
): Promise<{ predictions: Prediction[]; next: number | null }> {
  const score = options.score ?? createScorer({ asOf: options.asOf, fit: ctx.fit, settings: ctx.settings });
  const page = await readScorePage(db, workspaceId, options.asOf, options.after, options.limit, { userIds: true });
  const predictions: Prediction[] = [];
  inputsOf(page).forEach((input, i) => {
    if (input.x === null) return; // a prospect: not a customer yet
    const s = score(input);
    predictions.push({
      user_id: page.user_id[i] ?? null,
      contact_id: s.contactId,
      frequency: s.frequency!,
      recency: s.recency!,
      T: s.T!,
      p_alive: s.pAlive,
      churn_risk: s.churnRisk,
      expected_purchases_90d: s.expectedPurchases90d,
      expected_next_order_at: s.expectedNextOrderDay === null ? null : dayString(s.expectedNextOrderDay),
      predicted_clv: s.predictedClv,
      rfm_cell: s.rfmCell,
      lifecycle_stage: s.lifecycleStage,
    });
  });
  return { predictions, next: page.page_size === options.limit && page.last_id !== null ? page.last_id : null };
}

/** Every customer's predictions, page after page. */
export async function* allPredictions(db: Queryable, workspaceId: string, ctx: ScoreContext, options: { asOf: string; pageSize?: number }): AsyncGenerator<Prediction[]> {
  const score = createScorer({ asOf: options.asOf, fit: ctx.fit, settings: ctx.settings });
  let after: number | null = 0;
  while (after !== null) {
    const page: { predictions: Prediction[]; next: number | null } = await predictionsPage(db, workspaceId, ctx, { asOf: options.asOf, after, limit: options.pageSize ?? 10_000, score });
    if (page.predictions.length > 0) yield page.predictions;
    after = page.next;
  }
}

// Numbers to at most 6 decimals, without trailing zeros (probabilities, weeks, money).
const num = (v: number | null): string | null => (v === null ? null : String(Number(v.toFixed(6))));

/** A prediction as a CSV line (columns in `predictionColumns` order). */
export function predictionCsv(p: Prediction): string {
  return csvLine([
    p.user_id, num(p.frequency), num(p.recency), num(p.T), num(p.p_alive), num(p.churn_risk), num(p.expected_purchases_90d),
    p.expected_next_order_at, p.predicted_clv === null ? null : p.predicted_clv.toFixed(2), p.rfm_cell, p.lifecycle_stage,
  ]);
}

/** A prediction as a JSON line. */
export function predictionJson(p: Prediction): string {
  const { contact_id: _omit, ...row } = p;
  return `${JSON.stringify(row)}\n`;
}

/** The export as text chunks (header first for CSV). */
export async function* exportPredictions(rows: AsyncIterable<Prediction[]>, format: 'csv' | 'jsonl'): AsyncGenerator<string> {
  if (format === 'csv') yield csvLine([...predictionColumns]);
  for await (const page of rows) yield page.map(format === 'csv' ? predictionCsv : predictionJson).join('');
}
