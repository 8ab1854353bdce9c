/**
 * Lifecycle stages: where a contact stands in the customer journey, from the same facts the
 * scores use. A typed rule list rather than segment rules: every stage needs the churn band and
 * RFM cell computed in the same pass, and "won back" needs the model's view of the customer just
 * before their latest order, which no stored column holds. The thresholds are per workspace
 * (schema.ts, LifecycleSettings); the order of the checks is fixed and documented.
 */
import type { ChurnBand, LifecycleStage, RfmCell } from './schema.ts';
import type { ModelSettings } from './schema.ts';

export type StageFacts = {
  /** Purchase days (orders on one day count once); 0 for a contact who never ordered. */
  purchaseDays: number;
  daysSinceLastOrder: number | null;
  /** The churn band, for repeat customers with a fitted model; null otherwise. */
  churnBand: ChurnBand | null;
  rfmCell: RfmCell | null;
  /** Was the customer lapsed just before their latest order (by these same rules)? */
  lapsedBeforeLastOrder: boolean;
};

/**
 * The stage, first match wins:
 * 1. prospect: no order;
 * 2. won_back: lapsed just before the latest order, which is at most wonBackDays old;
 * 3. new_customer: one order, at most newCustomerDays old;
 * 4. lapsed: a repeat customer in a lapsedBands churn band, or one order older than oneTimeLapsedDays;
 * 5. at_risk: a repeat customer in an atRiskBands churn band, or one order older than oneTimeAtRiskDays;
 * 6. loyal: in one of the loyalCells RFM cells;
 * 7. active: everyone else (repeat customers in good standing, one-time buyers in between).
 */
export function lifecycleStage(f: StageFacts, rules: ModelSettings['lifecycle']): LifecycleStage {
  if (f.purchaseDays === 0 || f.daysSinceLastOrder === null) return 'prospect';
  const days = f.daysSinceLastOrder;
  if (f.lapsedBeforeLastOrder && days <= rules.wonBackDays) return 'won_back';
  if (f.purchaseDays === 1 && days <= rules.newCustomerDays) return 'new_customer';
  if (isLapsed(f.purchaseDays, days, f.churnBand, rules)) return 'lapsed';
  const judgedByBand = f.purchaseDays > 1 && f.churnBand !== null;
  if (judgedByBand ? rules.atRiskBands.includes(f.churnBand!) : days > rules.oneTimeAtRiskDays) return 'at_risk';
  if (f.rfmCell !== null && rules.loyalCells.includes(f.rfmCell)) return 'loyal';
  return 'active';
}

/**
 * The lapsed test on its own, also applied to the history before the latest order: repeat
 * customers by churn band (when a model is fitted), one-time buyers (and everyone, without a
 * model) by the days since their last order.
 */
export function isLapsed(purchaseDays: number, daysSinceLastOrder: number, churnBand: ChurnBand | null, rules: ModelSettings['lifecycle']): boolean {
  if (purchaseDays > 1 && churnBand !== null) return rules.lapsedBands.includes(churnBand);
  return daysSinceLastOrder > rules.oneTimeLapsedDays;
}
