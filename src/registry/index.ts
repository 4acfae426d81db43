export { Registry } from './registry.js';
export { buildContainer, buildModel, buildLosses, clipGeometry, assembleModel, assembleLosses } from './container.js';
export type { ContainerOptions } from './container.js';
export { branchModule, fusionModule, backboneModule, headModule, lossModule, systemModule, builtinModules } from './modules.js';
export {
  registerBranch, registerFusion, registerBackbone, registerHead, registerClassificationLoss, registerMetricLoss, registerSystem,
} from './plugins.js';
export type { PluginOptions } from './plugins.js';
export {
  BranchRegistry, FusionRegistry, BackboneRegistry, HeadRegistry, ClassificationLossRegistry, MetricLossRegistry,
  RunConfig, NumClasses, ModelFactory, LossesFactory, SystemRegistry,
} from './tokens.js';
export type { BranchFactory, FusionFactory, BackboneFactory, HeadFactory, RunLosses } from './tokens.js';
