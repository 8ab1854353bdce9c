/**
 * Customer scores: the customer-base models (BG/NBD, Gamma-Gamma) fitted per workspace from the
 * order history, RFM, lifecycle stages and a plain-language explanation per contact, stored in
 * contact_scores for segments, templates and journeys. docs/models.md explains every number.
 */
export { createModelService, type ModelService, type ContactScores } from './service.ts';
export { createScoreUpdater, orderEvents, type ScoreUpdater } from './updater.ts';
export { startModelScheduler } from './scheduler.ts';
export { fitWorkspace, fitSummary, type FitResult, type FitOptions } from './fit.ts';
export { exportPredictions, predictionColumns, type Prediction } from './predictions.ts';
export type { ScoreRunResult } from './scorer.ts';
export {
  ModelSettings,
  ModelSettingsPatch,
  TimeUnit,
  timeUnits,
  lifecycleStages,
  rfmCells,
  churnBands,
  type LifecycleStage,
  type RfmCell,
  type ChurnBand,
  type StoredFit,
} from './schema.ts';
export { loadSimulatedOrders, simulateOrderHistories, type SimulateOrdersOptions } from './simulate-orders.ts';
export { dayOf, utcDate } from './inputs.ts';
