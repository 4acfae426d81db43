// Public library surface of exp-asd (docs/library.md).
export * from './config/index.js';
// The config loader with the registered parts' schemas (these names override config/load's).
export {
  ExperimentConfig,
  validateExperiment,
  loadExperiment,
  readExperiment,
  takePluginPaths,
} from './parts/experiment.js';
export type { ReadExperimentOptions } from './parts/experiment.js';
export { builtinPlugins, createCatalog, defaultCatalog } from './parts/builtin.js';
export { loadPluginFiles, catalogFor, sha256Of } from './parts/files.js';
export type { LoadedPlugins } from './parts/files.js';
export {
  buildContainer,
  buildModel,
  buildLosses,
  branchModule,
  fusionModule,
  backboneModule,
  headModule,
  lossModule,
  systemModule,
  builtinModules,
} from './parts/container.js';
export { modelParts } from './model/parts.js';
export { lossParts } from './losses/parts.js';
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
export {
  auc,
  partialAuc,
  partialAucMcclish,
  rocMetrics,
  evaluate,
  parseScoresCsv,
  readScoresCsv,
} from './metrics/index.js';
export type { ScoreRow, MetricValues, EvaluateOptions, Evaluation } from './metrics/index.js';
export * from './model/index.js';
export * from './registry/index.js';
export * from './systems/index.js';
export { countParams, TABLE5, dcaseClasses, DCASE_CLASSES } from './parts/params.js';
export type { ParamsReport } from './parts/params.js';
// The run session: one run (or sweep trial) from validated config to stored result, with its store.
export { runSession } from './session/session.js';
export type { SessionOptions, SessionOutcome, SessionTarget } from './session/session.js';
export { ChildTrainer } from './session/child-trainer.js';
export { loadTrainer } from './session/trainer.js';
export { openRunStore, openRunReader } from './store/open.js';
export type { RunStore, RunReader, RunLease } from './store/run-store.js';
export type { RunRecord } from './store/types.js';
export type { Trainer, TrainOptions, TrainEvent } from './train/events.js';
