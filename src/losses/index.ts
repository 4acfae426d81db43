export {
  arcFaceLogits,
  arcFaceLoss,
  anomalyScores,
  anomalyScoreTensor,
  arcMarginTarget,
  ARCFACE_DEFAULTS,
} from './arcface.js';
export type { ArcFaceOptions, AnomalyScoreOptions } from './arcface.js';
export { noisyArcMixLoss, arcMixLoss } from './arcmix.js';
export {
  softTripleLoss,
  softTripleMixedLoss,
  softTripleSimilarities,
  softTripleRegularizer,
  SOFTTRIPLE_DEFAULTS,
} from './softtriple.js';
export type { SoftTripleOptions } from './softtriple.js';
export { l2NormalizeRows, cosineMatrix } from './common.js';
export { SeededRandom, type RandomState } from '../random/index.js';
export {
  createLossRegistries,
  arcFaceFactory,
  noisyArcMixFactory,
  arcMixFactory,
  softTripleFactory,
  initSoftTripleCenters,
  SOFTTRIPLE_CENTERS_KEY,
} from './registry.js';
export type { ClassificationLossFactory, MetricLossFactory, LossRegistries } from './registry.js';
export type { ClassificationLoss, MetricLoss, MixTargets } from './types.js';
