// Public library surface of exp-asd (README, "Library use").
export * from './config/index.js';
export { UserError } from './util/errors.js';
export { logMel, logMelBatch, DEFAULT_LOGMEL_OPTIONS } from './features/logmel.js';
export type { LogMelOptions, LogMelResult, LogMelBatchResult } from './features/logmel.js';
export {
  arcFaceLoss,
  arcFaceLogits,
  anomalyScores,
  anomalyScoreTensor,
  noisyArcMixLoss,
  arcMixLoss,
  softTripleLoss,
  softTripleMixedLoss,
  softTripleSimilarities,
  softTripleRegularizer,
  SeededRandom,
  createLossRegistries,
} from './losses/index.js';
export type {
  ArcFaceOptions,
  AnomalyScoreOptions,
  SoftTripleOptions,
  RandomState,
  ClassificationLossFactory,
  MetricLossFactory,
  LossRegistries,
} from './losses/index.js';
export { auc, partialAuc, partialAucMcclish, rocMetrics, evaluate, parseScoresCsv, readScoresCsv } from './metrics/index.js';
export type { ScoreRow, MetricValues, EvaluateOptions, Evaluation } from './metrics/index.js';
export * from './model/index.js';
export * from './registry/index.js';
export * from './systems/index.js';
export { countParams, TABLE5, dcaseClasses } from './registry/params.js';
export type { ParamsReport } from './registry/params.js';
