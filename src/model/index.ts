export type {
  ModelInputs,
  ForwardContext,
  Module,
  FeatureBranch,
  Fusion,
  Backbone,
  Head,
  ClipGeometry,
  BranchArgs,
  FusionArgs,
  BackboneArgs,
  HeadArgs,
  AsdModel,
} from './types.js';
export { BaseModule } from './module.js';
export { Init } from './init.js';
export { Rng, deriveSeed } from '../random/index.js';
export * as nn from './nn.js';
export { applyUpdates, BN_EPS, BN_MOMENTUM } from './nn.js';
export type { BatchNormParams } from './nn.js';
export { dft2Real, idft2Real, dftMatrices } from './dft.js';
export { ZooModel } from './asd-model.js';
export { LogMelBranch } from './branches/logmel.js';
export { TgramBranch } from './branches/tgram.js';
export { TAgramBranch, temporalAttention } from './branches/tagram.js';
export { SpecNetBranch } from './branches/specnet.js';
export { FgaSpecBranch } from './branches/fga-spec.js';
export { ConcatFusion } from './fusions/concat.js';
export { MobileFaceNet, mobileFaceNetShapes, BOTTLENECK_TABLES } from './backbones/mobilefacenet.js';
export { ArcFaceHead } from './heads/arcface.js';
