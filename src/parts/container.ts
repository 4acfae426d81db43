import { ContainerModule, type Container, type ServiceIdentifier } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import type { AsdModel } from '../model/types.js';
import type { Catalog } from '../registry/catalog.js';
import type { Registry } from '../registry/registry.js';
import { buildContainer as buildWithCatalog, type ContainerOptions } from '../registry/container.js';
import {
  BackboneRegistry,
  BranchRegistry,
  ClassificationLossRegistry,
  FusionRegistry,
  HeadRegistry,
  LossesFactory,
  MetricLossRegistry,
  ModelFactory,
  SystemRegistry,
  type RunLosses,
} from '../registry/tokens.js';
import { defaultCatalog } from './builtin.js';

/**
 * The container helpers of the library, with the built-in catalog by default (scripts that add a
 * part with registerBranch(...) pass it as an extra module).
 */

export function buildContainer(config: ExperimentConfig, opts: ContainerOptions & { catalog?: Catalog }): Container {
  return buildWithCatalog(config, { ...opts, catalog: opts.catalog ?? defaultCatalog() });
}

/** The configured model, with fresh weights. */
export function buildModel(
  config: ExperimentConfig,
  numClasses: number,
  extraModules: readonly ContainerModule[] = [],
  catalog?: Catalog,
): AsdModel {
  return buildContainer(config, { numClasses, extraModules, ...(catalog ? { catalog } : {}) }).get<ModelFactory>(
    ModelFactory,
  )();
}

/** The configured losses (a metric loss owns weights: the SoftTriple centres). */
export function buildLosses(
  config: ExperimentConfig,
  numClasses: number,
  extraModules: readonly ContainerModule[] = [],
  catalog?: Catalog,
): RunLosses {
  return buildContainer(config, { numClasses, extraModules, ...(catalog ? { catalog } : {}) }).get<LossesFactory>(
    LossesFactory,
  )();
}

/** One family's built-in registry as a ContainerModule (a copy per container). */
function familyModule<F>(token: ServiceIdentifier<Registry<F>>, pick: (c: Catalog) => Registry<F>): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<Registry<F>>(token)
      .toDynamicValue(() => pick(defaultCatalog()).clone())
      .inSingletonScope();
  });
}

export const branchModule = familyModule(BranchRegistry, (c) => c.branches);
export const fusionModule = familyModule(FusionRegistry, (c) => c.fusions);
export const backboneModule = familyModule(BackboneRegistry, (c) => c.backbones);
export const headModule = familyModule(HeadRegistry, (c) => c.heads);
export const lossModule = new ContainerModule(({ bind }) => {
  bind(ClassificationLossRegistry)
    .toDynamicValue(() => defaultCatalog().classificationLosses.clone())
    .inSingletonScope();
  bind(MetricLossRegistry)
    .toDynamicValue(() => defaultCatalog().metricLosses.clone())
    .inSingletonScope();
});
export const systemModule = familyModule(SystemRegistry, (c) => c.systems);
/** The built-in families as ContainerModules, in load order (for a container of your own). */
export const builtinModules: readonly ContainerModule[] = [
  branchModule,
  fusionModule,
  backboneModule,
  headModule,
  lossModule,
  systemModule,
];
