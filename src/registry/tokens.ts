import type { Registry } from './registry.js';
import type { AsdModel } from '../model/types.js';
import type { ClassificationLoss, MetricLoss } from '../losses/types.js';
import type { ExperimentConfig } from '../config/schema.js';
import type {
  BackboneFactory,
  BranchFactory,
  ClassificationLossFactory,
  FusionFactory,
  HeadFactory,
  MetricLossFactory,
} from './parts.js';
import type { SystemDefinition } from '../systems/types.js';

/**
 * Injection tokens (Theia style: a Symbol named like the interface it stands for). Each family of
 * interchangeable parts is a Registry of factories; a factory receives only its own arguments
 * (its name, the seed, its config slice), never the whole config.
 */

export type {
  BackboneFactory,
  BranchFactory,
  ClassificationLossFactory,
  FusionFactory,
  HeadFactory,
  MetricLossFactory,
};

export const BranchRegistry = Symbol('BranchRegistry');
export type BranchRegistry = Registry<BranchFactory>;
export const FusionRegistry = Symbol('FusionRegistry');
export type FusionRegistry = Registry<FusionFactory>;
export const BackboneRegistry = Symbol('BackboneRegistry');
export type BackboneRegistry = Registry<BackboneFactory>;
export const HeadRegistry = Symbol('HeadRegistry');
export type HeadRegistry = Registry<HeadFactory>;
export const ClassificationLossRegistry = Symbol('ClassificationLossRegistry');
export type ClassificationLossRegistry = Registry<ClassificationLossFactory>;
export const MetricLossRegistry = Symbol('MetricLossRegistry');
export type MetricLossRegistry = Registry<MetricLossFactory>;

/** Systems (Table 2's rows): `system` names one; absent = `classifier`. */
export const SystemRegistry = Symbol('SystemRegistry');
export type SystemRegistry = Registry<SystemDefinition>;

/** The validated experiment config of this run (bound once per container). */
export const RunConfig = Symbol('RunConfig');
export type RunConfig = ExperimentConfig;
/** Number of classes (machine IDs) the head scores. */
export const NumClasses = Symbol('NumClasses');
export type NumClasses = number;

/** Builds the configured model (a factory: each call makes fresh weights). */
export const ModelFactory = Symbol('ModelFactory');
export type ModelFactory = () => AsdModel;

/** The configured losses; null where the config turns one off (loss.metric: null). */
export interface RunLosses {
  classification: ClassificationLoss | null;
  metric: MetricLoss | null;
}
export const LossesFactory = Symbol('LossesFactory');
export type LossesFactory = () => RunLosses;
