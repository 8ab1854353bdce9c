/**
 * Customer-base ("buy till you die") models: BG/NBD for repeat purchasing, Gamma-Gamma for
 * spend, BG/BB for discrete transaction opportunities, and the summary of a transaction log that
 * they are fitted on. Pure functions, no I/O.
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
export type { BgBbParams, BgBbFit, BgBbData } from './bgbb.ts';
export { fitBgBb, bgBbCustomerLogLikelihood, bgBbPAlive, bgBbExpectedTransactions } from './bgbb.ts';
export type { Rng, SimulateBgNbdOptions, SimulatedCustomers, SimulatedBgBb } from './simulate.ts';
export { createRng, simulateBgNbd, simulateGammaGamma, simulateBgBb } from './simulate.ts';
export type { Objective, MinimizeOptions, MinimizeResult } from './optimize.ts';
export { minimize } from './optimize.ts';
export { lgamma, digamma, hyp2f1 } from './special.ts';
