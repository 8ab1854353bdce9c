/**
 * Recommendations: "bought together" for a product and "for you" for a contact, from item-item
 * models fitted on the order history (EASE and shrunk cosine), with an offline evaluation against
 * a popularity baseline. See docs/recommendations.md.
 */
export { createRecommendationService, type RecommendationService, type Recommendation, type FitResult } from './service.ts';
export { fitRecommender, defaultLambda, relatedPairs, type FitInput, type FitOptions, type FittedRecommender, type Neighbour } from './fit.ts';
export { rankForContact, boughtTogether, type Ranked, type RankInput, type NeighbourRow } from './rank.ts';
export { evaluateHoldout, type Evaluation, type EvaluationData, type EvaluationOptions, type MethodResult, type ProtocolResult } from './evaluate.ts';
export { topK, type TopK } from './metrics.ts';
export { invertSpd, zeros, type Matrix } from './linalg.ts';
export type { ModelSummary } from './sql/save-model.ts';
