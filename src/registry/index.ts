export { Registry } from './registry.js';
export { Catalog } from './catalog.js';
export type { Parts, PartsApi, PartSpec, Plugin, PartInfo, RegisterOptions } from './catalog.js';
export type { PartRegistries } from './parts.js';
export { catalogModule, partsWith, clipGeometry, assembleModel, assembleLosses } from './container.js';
export type { ContainerOptions } from './container.js';
export {
  registerBranch,
  registerFusion,
  registerBackbone,
  registerHead,
  registerClassificationLoss,
  registerMetricLoss,
  registerSystem,
} from './plugins.js';
export type { PluginOptions } from './plugins.js';
export {
  BranchRegistry,
  FusionRegistry,
  BackboneRegistry,
  HeadRegistry,
  ClassificationLossRegistry,
  MetricLossRegistry,
  RunConfig,
  NumClasses,
  ModelFactory,
  LossesFactory,
  SystemRegistry,
} from './tokens.js';
export type { BranchFactory, FusionFactory, BackboneFactory, HeadFactory, RunLosses } from './tokens.js';
