/**
 * Customer-base ("buy till you die") models: BG/NBD for repeat purchasing, Gamma-Gamma for
 * spend, and the summary of a transaction log that both are fitted on. Pure functions, no I/O.
 */
export type { RfmData, CompressedRfm } from './rfm.ts';
export { compressRfm } from './rfm.ts';
export type { BgNbdParams, BgNbdFit, BgNbdFitOptions } from './bgnbd.ts';
export { fitBgNbd, bgNbdLogLikelihood, bgNbdCustomerLogLikelihood, bgNbdObjective } from './bgnbd.ts';
export type { BgNbdScores } from './bgnbd-score.ts';
export {
  pAlive,
  expectedPurchases,
  expectedPurchasesIfAlive,
  expectedPurchasesNew,
  nextPurchaseInterval,
  pPurchaseWithin,
  scoreBgNbd,
} from './bgnbd-score.ts';
export type { GammaGammaParams, GammaGammaFit, GammaGammaFitOptions, SpendData, ClvOptions } from './gammagamma.ts';
export {
  fitGammaGamma,
  gammaGammaCustomerLogLikelihood,
  conditionalExpectedSpend,
  customerLifetimeValue,
} from './gammagamma.ts';
export type { TimeUnit, Transaction, CustomerSummary } from './summary.ts';
export { summarizeTransactions, dayNumber } from './summary.ts';
export type { Rng, SimulateBgNbdOptions, SimulatedCustomers } from './simulate.ts';
export { createRng, simulateBgNbd, simulateGammaGamma } from './simulate.ts';
export type { Objective, MinimizeOptions, MinimizeResult } from './optimize.ts';
export { minimize } from './optimize.ts';
export { lgamma, digamma, hyp2f1 } from './special.ts';
