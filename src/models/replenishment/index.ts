/**
 * Replenishment: how long products last, learned from repeat purchases, and when each contact's
 * replacement is due. See docs/recommendations.md.
 */
export { createReplenishmentService, type ReplenishmentService, type ReplenishmentProduct, type ContactReplenishment, type ReplenishmentOptions } from './service.ts';
export { chooseIntervals, dispersion, isDueSoon, type GapStats, type ProductFacts, type ProductInterval, type IntervalSource, type IntervalOptions } from './intervals.ts';
export { intervalReason, dueReason, formatDay } from './reasons.ts';
export type { DueRow } from './sql/due.ts';
