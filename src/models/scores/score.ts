/**
 * Scoring one customer with the workspace's latest fit: RFM, P(alive) and churn risk, expected
 * purchases, the expected next order date, predicted lifetime value, the chance of an order in
 * the next 90 days and the lifecycle stage. Pure: the database pipeline (scorer.ts) feeds it
 * pages of customers. The explanation is not built here but when scores are read (explain.ts).
 *
 * Every quantity comes from the BG/NBD and Gamma-Gamma functions in ../btyd. The expensive part,
 * the expected purchases (a hypergeometric function per horizon), depends only on (x, T): it is
 * computed once per distinct pair and cached for the scorer's lifetime (a million customers share
 * a few thousand pairs). Lifetime value uses that P(alive) factors out of the expected purchases:
 * sum_i s (E[Y(iL)] - E[Y((i-1)L)]) / (1+d)^i = s P(alive) sum_i (E*(iL) - E*((i-1)L)) / (1+d)^i,
 * with E* the expectation given alive, so the discounted sum is cached per (x, T) too; the result
 * equals btyd's customerLifetimeValue (test/models/score.test.ts). So is the chance of no
 * purchase in 90 days given alive, which P(an order in 90 days) multiplies by P(alive).
 */
import {
  conditionalExpectedSpend,
  expectedPurchasesIfAlive,
  nextPurchaseInterval,
  pAlive,
  type BgNbdParams,
} from '../btyd/index.ts';
import { dayOf } from './inputs.ts';
import { isLapsed, lifecycleStage, type StageFacts } from './lifecycle.ts';
import { cutsInUse, rfmCell, scoreHigherBetter, scoreRecency } from './rfm.ts';
import type { ChurnBand, LifecycleStage, ModelSettings, RfmCell, StoredFit } from './schema.ts';

/** Beyond this the "expected next order date" is left empty: the customer is not expected back. */
const MAX_NEXT_ORDER_DAYS = 3650;

/** What the database knows of a contact (sql/score-page.ts); the order fields are null for prospects. */
export type CustomerInput = {
  contactId: number;
  /** Repeat purchase days. */
  x: number | null;
  firstDay: number | null;
  lastDay: number | null;
  /** Days between the previous purchase day and the last (0 with one purchase day). */
  lastGap: number | null;
  repeatSpend: number | null;
  spend: number | null;
};

export type CustomerScore = {
  contactId: number;
  recencyScore: number | null;
  frequencyScore: number | null;
  monetaryScore: number | null;
  rfmCell: RfmCell | null;
  pAlive: number | null;
  churnRisk: number | null;
  churnBand: ChurnBand | null;
  expectedPurchases30d: number | null;
  expectedPurchases90d: number | null;
  expectedPurchases365d: number | null;
  /** The expected next order day (UTC days since 1970-01-01); null without a fit or beyond ten years. */
  expectedNextOrderDay: number | null;
  predictedClv: number | null;
  /** P(at least one order in the next 90 days); the explanation gives it for one-time buyers. */
  pOrder90d: number | null;
  lifecycleStage: LifecycleStage;
  /** Purchase days (0 for a prospect), and the first and last of them as UTC day numbers. */
  purchaseDays: number;
  firstOrderDay: number | null;
  lastOrderDay: number | null;
  /** The model inputs x, t_x and T in the fit's time unit (days without a fit). */
  frequency: number | null;
  recency: number | null;
  T: number | null;
  /** The rest of the order summary the scores came from, stored with them (pages.ts reuses it). */
  lastGap: number | null;
  repeatSpend: number | null;
  spend: number | null;
};

type Cached = { e30: number; e90: number; e365: number; clvFactor: number; nextDays: number; none90: number };

/** Builds the scoring function for one as-of day, fit and settings. */
export function createScorer(ctx: { asOf: string; fit: StoredFit | null; settings: ModelSettings }) {
  const asOfDay = dayOf(ctx.asOf);
  const { settings, fit } = ctx;
  const scale = fit?.timeUnit === 'weeks' ? 1 / 7 : 1;
  const bg: BgNbdParams | null = fit?.bgnbd ?? null;
  const gg = fit?.gammaGamma && fit.gammaGamma.q > 1 ? fit.gammaGamma : null;
  const cuts = cutsInUse(settings.rfm, fit?.rfm ?? null);
  const { medium, high, veryHigh } = settings.churnBands;
  const band = (risk: number): ChurnBand => (risk >= veryHigh ? 'very_high' : risk >= high ? 'high' : risk >= medium ? 'medium' : 'low');
  const { horizonMonths, monthlyDiscountRate, margin } = settings.clv;
  const days90 = 90 * scale;
  const month = (365.25 / 12) * scale;
  const cache = new Map<number, Cached>();

  function perPair(params: BgNbdParams, x: number, Tdays: number): Cached {
    const key = x * 1_048_576 + Tdays;
    let c = cache.get(key);
    if (!c) {
      const T = Tdays * scale;
      let clvFactor = 0;
      let previous = 0;
      for (let i = 1; i <= horizonMonths; i++) {
        const cumulative = expectedPurchasesIfAlive(params, i * month, x, T);
        clvFactor += (cumulative - previous) / Math.pow(1 + monthlyDiscountRate, i);
        previous = cumulative;
      }
      c = {
        e30: expectedPurchasesIfAlive(params, 30 * scale, x, T),
        e90: expectedPurchasesIfAlive(params, 90 * scale, x, T),
        e365: expectedPurchasesIfAlive(params, 365 * scale, x, T),
        clvFactor,
        nextDays: nextPurchaseInterval(params, x, T) / scale,
        none90: Math.exp((params.r + x) * (Math.log(params.alpha + T) - Math.log(params.alpha + T + days90))),
      };
      cache.set(key, c);
    }
    return c;
  }

  const facts: StageFacts = { purchaseDays: 0, daysSinceLastOrder: null, churnBand: null, rfmCell: null, lapsedBeforeLastOrder: false };

  /** Scores a contact into `out` (every field is set), which the pipeline reuses for the contacts whose scores stand. */
  function into(c: CustomerInput, out: CustomerScore): CustomerScore {
    out.contactId = c.contactId;
    if (c.x === null || c.firstDay === null || c.lastDay === null) return Object.assign(out, prospect);
    const x = c.x;
    const txDays = c.lastDay - c.firstDay;
    const Tdays = asOfDay - c.firstDay;
    const sinceLast = asOfDay - c.lastDay;
    const spend = c.spend ?? 0;
    let recencyScore: number | null = null;
    let frequencyScore: number | null = null;
    let monetaryScore: number | null = null;
    let cell: RfmCell | null = null;
    if (cuts) {
      recencyScore = scoreRecency(sinceLast, cuts.recencyDays);
      frequencyScore = scoreHigherBetter(x + 1, cuts.frequency);
      monetaryScore = scoreHigherBetter(spend, cuts.monetary);
      cell = rfmCell(recencyScore, frequencyScore);
    }
    let alive: number | null = null;
    let churnBand: ChurnBand | null = null;
    let e: Cached | null = null;
    let clv: number | null = null;
    let next: number | null = null;
    if (bg) {
      alive = pAlive(bg, x, txDays * scale, Tdays * scale);
      churnBand = band(1 - alive);
      e = perPair(bg, x, Tdays);
      if (gg) clv = conditionalExpectedSpend(gg, x, x > 0 ? (c.repeatSpend ?? 0) / x : 0) * margin * alive * e.clvFactor;
      if (e.nextDays <= MAX_NEXT_ORDER_DAYS) next = asOfDay + Math.max(1, Math.round(e.nextDays));
    }
    // Just before the latest order the customer had x purchase days, the last of them `lastGap`
    // days before it: were they lapsed then? (Only asked while "won back" is still possible.)
    let lapsedBefore = false;
    if (x >= 1 && c.lastGap !== null && sinceLast <= settings.lifecycle.wonBackDays) {
      const prevLast = c.lastDay - c.lastGap;
      const prevBand = bg && x >= 2 ? band(1 - pAlive(bg, x - 1, (prevLast - c.firstDay) * scale, (c.lastDay - c.firstDay) * scale)) : null;
      lapsedBefore = isLapsed(x, c.lastGap, prevBand, settings.lifecycle);
    }
    facts.purchaseDays = x + 1;
    facts.daysSinceLastOrder = sinceLast;
    facts.churnBand = x > 0 ? churnBand : null;
    facts.rfmCell = cell;
    facts.lapsedBeforeLastOrder = lapsedBefore;
    const stage = lifecycleStage(facts, settings.lifecycle);
    out.recencyScore = recencyScore;
    out.frequencyScore = frequencyScore;
    out.monetaryScore = monetaryScore;
    out.rfmCell = cell;
    out.pAlive = alive;
    out.churnRisk = alive === null ? null : 1 - alive;
    out.churnBand = churnBand;
    out.expectedPurchases30d = e && alive !== null ? alive * e.e30 : null;
    out.expectedPurchases90d = e && alive !== null ? alive * e.e90 : null;
    out.expectedPurchases365d = e && alive !== null ? alive * e.e365 : null;
    out.expectedNextOrderDay = next;
    out.predictedClv = clv !== null && Number.isFinite(clv) ? clv : null;
    out.pOrder90d = e && alive !== null ? alive * (1 - e.none90) : null;
    out.lifecycleStage = stage;
    out.purchaseDays = x + 1;
    out.firstOrderDay = c.firstDay;
    out.lastOrderDay = c.lastDay;
    out.frequency = x;
    out.recency = txDays * (bg ? scale : 1);
    out.T = Tdays * (bg ? scale : 1);
    out.lastGap = c.lastGap;
    out.repeatSpend = c.repeatSpend;
    out.spend = c.spend;
    return out;
  }

  const score = (c: CustomerInput): CustomerScore => into(c, blankScore());
  return Object.assign(score, { into });
}

/** A scorer: scores a contact into a new object, or with `into` into one the caller reuses. */
export type Scorer = ReturnType<typeof createScorer>;

// What a prospect's scores are, but for the contact id.
const prospect: Omit<CustomerScore, 'contactId'> = {
  recencyScore: null, frequencyScore: null, monetaryScore: null, rfmCell: null, pAlive: null, churnRisk: null,
  churnBand: null, expectedPurchases30d: null, expectedPurchases90d: null, expectedPurchases365d: null, expectedNextOrderDay: null,
  predictedClv: null, pOrder90d: null, lifecycleStage: 'prospect', purchaseDays: 0, firstOrderDay: null, lastOrderDay: null,
  frequency: null, recency: null, T: null, lastGap: null, repeatSpend: null, spend: null,
};

/** A score with every field present (a prospect's, contact 0): one shape for every score object. */
export const blankScore = (): CustomerScore => ({ contactId: 0, ...prospect });
