import type { Db } from '../../db/index.ts';
import type { Clock } from '../../core/clock.ts';
import { fitWorkspace, type FitResult } from './fit.ts';
import { explainStored } from './explain.ts';
import { dayOf, utcDate } from './inputs.ts';
import { allPredictions, predictionsPage } from './predictions.ts';
import { scoreContacts, scoreWorkspace, type ScoreRunResult } from './scorer.ts';
import type { ModelSettingsPatch, StoredFit, TimeUnit } from './schema.ts';
import { latestFit, loadSettings, recentFits, saveFit, updateSettings } from './store.ts';

/** A contact's stored scores, as segments, templates and the API read them. */
export type ContactScores = {
  contactId: number;
  recencyScore: number | null;
  frequencyScore: number | null;
  monetaryScore: number | null;
  rfmCell: string | null;
  pAlive: number | null;
  churnRisk: number | null;
  churnBand: string | null;
  expectedPurchases30d: number | null;
  expectedPurchases90d: number | null;
  expectedPurchases365d: number | null;
  /** The day (YYYY-MM-DD) by which the customer, if still a customer, has even odds of having ordered again. */
  expectedNextOrderAt: string | null;
  predictedClv: number | null;
  /** P(at least one order in the next 90 days). */
  pOrder90d: number | null;
  lifecycleStage: string | null;
  /** Purchase days (orders on one day count once), and the first and last of them (YYYY-MM-DD). */
  purchaseDays: number | null;
  firstOrderDate: string | null;
  lastOrderDate: string | null;
  /** The plain-language reason, built from the numbers when read (explain.ts). */
  explanation: string | null;
  /**
   * The day these scores describe: the as-of day of the latest full scoring, or of the contact's own
   * rescoring after an order when that came later (a rescoring leaves rows that barely moved as they
   * are: changes.ts). The explanation's "94 days ago" counts to it.
   */
  asOf: string;
  /** When these numbers were written. */
  scoredAt: Date;
  /** Lifecycle stage changes, newest first (from the "Lifecycle Stage Changed" events). */
  stageHistory: { from: string | null; to: string; at: Date }[];
};

/**
 * The customer scores of a workspace: fitting the models (on demand and on a schedule), scoring
 * every contact, rescoring contacts after they order, and reading the results.
 * `parallel` is how many id ranges the fit reads at once (one connection each).
 */
export function createModelService({ db, clock, parallel }: { db: Db; clock: Clock; parallel?: number }) {
  const readers = parallel ?? (db.kind === 'server' ? 2 : 1);
  const today = () => utcDate(clock.now());

  async function context(workspaceId: string) {
    const [fit, settings] = await Promise.all([latestFit(db, workspaceId), loadSettings(db, workspaceId)]);
    return { fit, settings };
  }

  async function score(workspaceId: string, options: { asOf?: string; onProgress?: (n: number) => void } = {}): Promise<ScoreRunResult & { asOf: string }> {
    const asOf = options.asOf ?? today();
    const result = await scoreWorkspace(db, workspaceId, await context(workspaceId), { asOf, scoredAt: clock.now(), parallel: readers, onProgress: options.onProgress });
    return { ...result, asOf };
  }

  return {
    /**
     * Fits BG/NBD, Gamma-Gamma and the RFM cut points as of a day (default today: every order so
     * far), stores the fit and, unless `score` is false, scores every contact as of that day.
     */
    async fit(workspaceId: string, options: { asOf?: string; timeUnit?: TimeUnit; score?: boolean; onProgress?: (n: number) => void } = {}) {
      const settings = await loadSettings(db, workspaceId);
      const asOf = options.asOf ?? today();
      const fittedAt = clock.now();
      const fit: FitResult = await fitWorkspace(db, workspaceId, { asOf, timeUnit: options.timeUnit ?? settings.timeUnit, parallel: readers });
      await saveFit(db, workspaceId, fit, fittedAt, fit.timings.totalMs);
      const scored = options.score === false ? null : await score(workspaceId, { asOf, onProgress: options.onProgress });
      return { fit, scored };
    },

    /** Scores every contact with the latest fit, as of a day (default today). */
    score,

    /**
     * Rescores contacts with the latest fit as of today (after they ordered); no refit. Before a
     * workspace's first fit there is nothing to score with, and nothing is written.
     */
    async rescoreContacts(workspaceId: string, contactIds: readonly number[]): Promise<ScoreRunResult> {
      const ctx = await context(workspaceId);
      if (!ctx.fit) return scoreContacts(db, workspaceId, [], ctx, { asOf: today(), scoredAt: clock.now() });
      return scoreContacts(db, workspaceId, contactIds, ctx, { asOf: today(), scoredAt: clock.now() });
    },

    latestFit: (workspaceId: string): Promise<StoredFit | null> => latestFit(db, workspaceId),
    recentFits: (workspaceId: string, limit?: number): Promise<StoredFit[]> => recentFits(db, workspaceId, limit),
    settings: (workspaceId: string) => loadSettings(db, workspaceId),
    updateSettings: (workspaceId: string, patch: ModelSettingsPatch) => updateSettings(db, workspaceId, patch, clock.now()),

    /** A contact's stored scores with the explanation and stage history, or null when not scored. */
    async scoresOf(workspaceId: string, contactId: number): Promise<ContactScores | null> {
      const { rows } = await db.query<Omit<ContactScores, 'explanation' | 'stageHistory'>>(
        `select contact_id as "contactId", recency_score as "recencyScore", frequency_score as "frequencyScore", monetary_score as "monetaryScore",
                rfm_cell as "rfmCell", p_alive as "pAlive", churn_risk as "churnRisk", churn_band as "churnBand",
                expected_purchases_30d as "expectedPurchases30d", expected_purchases_90d as "expectedPurchases90d",
                expected_purchases_365d as "expectedPurchases365d", expected_next_order_at::text as "expectedNextOrderAt",
                predicted_clv as "predictedClv", p_order_90d as "pOrder90d", lifecycle_stage as "lifecycleStage",
                purchase_days as "purchaseDays", first_order_date::text as "firstOrderDate", last_order_date::text as "lastOrderDate",
                (case when r.scored_at >= s.scored_at then r.as_of else (s.scored_at at time zone 'UTC')::date end)::text as "asOf",
                s.scored_at as "scoredAt"
           from contact_scores s left join score_runs r on r.workspace_id = s.workspace_id
          where s.workspace_id = $1 and s.contact_id = $2`,
        [workspaceId, contactId],
      );
      const s = rows[0];
      if (!s) return null;
      const [history, settings] = await Promise.all([
        db.query<{ properties: { from: string | null; to: string }; occurred_at: Date }>(
          `select properties, occurred_at from events
            where workspace_id = $1 and contact_id = $2 and name = 'Lifecycle Stage Changed' order by occurred_at desc, id desc limit 50`,
          [workspaceId, contactId],
        ),
        loadSettings(db, workspaceId),
      ]);
      const day = (d: string | null) => (d === null ? null : dayOf(d));
      const explanation = explainStored(
        { purchaseDays: s.purchaseDays, firstOrderDay: day(s.firstOrderDate), lastOrderDay: day(s.lastOrderDate), pAlive: s.pAlive, pOrder90d: s.pOrder90d, predictedClv: s.predictedClv },
        dayOf(s.asOf),
        settings.clv.horizonMonths,
      );
      return { ...s, explanation, stageHistory: history.rows.map((h) => ({ from: h.properties.from, to: h.properties.to, at: h.occurred_at })) };
    },

    /** One page of predictions computed with the latest fit as of a day (default today). */
    async predictions(workspaceId: string, options: { asOf?: string; after?: number; limit?: number } = {}) {
      return predictionsPage(db, workspaceId, await context(workspaceId), { asOf: options.asOf ?? today(), after: options.after ?? 0, limit: options.limit ?? 1000 });
    },

    /** Every customer's predictions as of a day, streamed in pages. */
    async allPredictions(workspaceId: string, options: { asOf?: string } = {}) {
      return allPredictions(db, workspaceId, await context(workspaceId), { asOf: options.asOf ?? today() });
    },
  };
}

export type ModelService = ReturnType<typeof createModelService>;
