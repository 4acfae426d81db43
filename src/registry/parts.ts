import type { Registry } from './registry.js';
import type {
  Backbone,
  BackboneArgs,
  BranchArgs,
  FeatureBranch,
  Fusion,
  FusionArgs,
  Head,
  HeadArgs,
} from '../model/types.js';
import type { ClassificationLossFactory, MetricLossFactory } from '../losses/registry.js';

/**
 * Factories of the classifier family's parts: each receives only its own arguments (its name,
 * the seed, its config slice), never the whole config. Loss factories are src/losses/registry.ts's:
 * (cfg slice, numClasses, embeddingDim, seed).
 */
export type BranchFactory = (args: BranchArgs) => FeatureBranch;
export type FusionFactory = (args: FusionArgs) => Fusion;
export type BackboneFactory = (args: BackboneArgs) => Backbone;
export type HeadFactory = (args: HeadArgs) => Head;
export type { ClassificationLossFactory, MetricLossFactory };

/** The registries a model and its losses are assembled from (one per family). */
export interface PartRegistries {
  readonly branches: Registry<BranchFactory>;
  readonly fusions: Registry<FusionFactory>;
  readonly backbones: Registry<BackboneFactory>;
  readonly heads: Registry<HeadFactory>;
  readonly classificationLosses: Registry<ClassificationLossFactory>;
  readonly metricLosses: Registry<MetricLossFactory>;
}
