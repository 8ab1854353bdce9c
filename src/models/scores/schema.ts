import { z } from 'zod';

/**
 * The contracts of the customer scores: per-workspace model settings (one schema for the API, the
 * stored JSON and the defaults) and the stored fits. The defaults and their reasons are in
 * docs/models.md.
 */

export const timeUnits = ['days', 'weeks'] as const;
export const TimeUnit = z.enum(timeUnits);
export type TimeUnit = z.infer<typeof TimeUnit>;

export const churnBands = ['low', 'medium', 'high', 'very_high'] as const;
export type ChurnBand = (typeof churnBands)[number];

/** Lifecycle stages, in the order a customer usually meets them. */
export const lifecycleStages = ['prospect', 'new_customer', 'active', 'loyal', 'at_risk', 'lapsed', 'won_back'] as const;
export type LifecycleStage = (typeof lifecycleStages)[number];

/** The named RFM cells, from the recency and frequency scores (rfm.ts has the map). */
export const rfmCells = [
  'Champions', 'Loyal', 'Potential loyalist', 'New customers', 'Promising', 'Need attention',
  'About to sleep', 'At risk', "Can't lose them", 'Hibernating', 'Lost',
] as const;
export type RfmCell = (typeof rfmCells)[number];

const ascending4 = (item: z.ZodNumber) =>
  z.tuple([item, item, item, item]).refine((t) => t.every((v, i) => i === 0 || v >= t[i - 1]!), { message: 'must be 4 values in ascending order' });

/**
 * RFM scores 1–5. `quintiles`: the cut points are the 20/40/60/80 % quantiles of the customers at
 * the last fit. `thresholds`: fixed upper bounds (inclusive) of the bands: recency in days since
 * the last order (≤ 1st → 5 … > 4th → 1), frequency in purchase days and monetary in total spend
 * (≤ 1st → 1 … > 4th → 5).
 */
export const RfmSettings = z.discriminatedUnion('method', [
  z.object({ method: z.literal('quintiles') }),
  z.object({
    method: z.literal('thresholds'),
    recencyDays: ascending4(z.number().int().min(0)),
    frequency: ascending4(z.number().int().min(1)),
    monetary: ascending4(z.number().min(0)),
  }),
]);
export type RfmSettings = z.infer<typeof RfmSettings>;

/** Churn risk (1 − P(alive)) at or above each bound puts a customer in that band. */
export const ChurnBandSettings = z
  .object({ medium: z.number().gt(0).lt(1), high: z.number().gt(0).lt(1), veryHigh: z.number().gt(0).lt(1) })
  .refine((b) => b.medium < b.high && b.high < b.veryHigh, { message: 'medium < high < veryHigh' });

/** Predicted lifetime value: discounted expected spend over the horizon. */
export const ClvSettings = z.object({
  horizonMonths: z.number().int().min(1).max(120),
  /** Discount rate per month (0.01 ≈ 12.7 % a year). */
  monthlyDiscountRate: z.number().min(0).max(1),
  /** Fraction of revenue kept as margin; 1 values revenue. */
  margin: z.number().gt(0).max(1),
});

/**
 * Lifecycle stage rules, checked in this order (first match wins): prospect (no order), won back,
 * new customer, lapsed, at risk, loyal, active. Repeat customers are judged by their churn band;
 * customers with a single order, whom BG/NBD cannot judge (its P(alive) is 1 until a repeat
 * purchase), by the days since that order.
 */
export const LifecycleSettings = z.object({
  /** A single order placed at most this many days ago: new customer. */
  newCustomerDays: z.number().int().min(1).max(3650),
  /** A single order older than this: at risk. */
  oneTimeAtRiskDays: z.number().int().min(1).max(3650),
  /** A single order older than this: lapsed. */
  oneTimeLapsedDays: z.number().int().min(1).max(3650),
  /** Repeat customers in these churn bands are at risk … */
  atRiskBands: z.array(z.enum(churnBands)).max(4),
  /** … and in these, lapsed. */
  lapsedBands: z.array(z.enum(churnBands)).max(4),
  /** RFM cells whose customers are loyal. */
  loyalCells: z.array(z.enum(rfmCells)).max(11),
  /** A customer who was lapsed just before their latest order is won back for this many days after it. */
  wonBackDays: z.number().int().min(1).max(3650),
});

export const ModelSettings = z.object({
  /** Time unit of the fit (alpha is per day or per week). */
  timeUnit: TimeUnit.default('days'),
  rfm: RfmSettings.default({ method: 'quintiles' }),
  churnBands: ChurnBandSettings.default({ medium: 0.2, high: 0.5, veryHigh: 0.8 }),
  clv: ClvSettings.default({ horizonMonths: 12, monthlyDiscountRate: 0.01, margin: 1 }),
  lifecycle: LifecycleSettings.default({
    newCustomerDays: 90,
    oneTimeAtRiskDays: 180,
    oneTimeLapsedDays: 365,
    atRiskBands: ['high'],
    lapsedBands: ['very_high'],
    loyalCells: ['Champions', 'Loyal'],
    wonBackDays: 90,
  }),
});
export type ModelSettings = z.infer<typeof ModelSettings>;

/** A change to the settings: top-level keys left out keep their value; a given key is replaced whole. */
export const ModelSettingsPatch = z
  .object({
    timeUnit: TimeUnit.optional(),
    rfm: RfmSettings.optional(),
    churnBands: ChurnBandSettings.optional(),
    clv: ClvSettings.optional(),
    lifecycle: LifecycleSettings.optional(),
  })
  .strict();
export type ModelSettingsPatch = z.infer<typeof ModelSettingsPatch>;

/** RFM cut points in use: recency in days, frequency in purchase days, monetary in spend. */
export type RfmCuts = { recencyDays: number[]; frequency: number[]; monetary: number[] };

/** Parameters stored per model in model_fits. */
export type BgNbdStored = { r: number; alpha: number; a: number; b: number; logLikelihood: number; iterations: number; converged: boolean };
export type GammaGammaStored = { p: number; q: number; gamma: number; logLikelihood: number; customers: number; iterations: number; converged: boolean };

/** The latest fit of a workspace, as scoring uses it. */
export type StoredFit = {
  asOf: string;
  timeUnit: TimeUnit;
  customers: number;
  fittedAt: Date;
  durationMs: number;
  bgnbd: BgNbdStored | null;
  gammaGamma: GammaGammaStored | null;
  rfm: RfmCuts | null;
};
