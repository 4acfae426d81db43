import { ContainerModule } from 'inversify';
import type { ServiceIdentifier } from 'inversify';
import type { Registry } from './registry.js';
import {
  BackboneRegistry,
  BranchRegistry,
  ClassificationLossRegistry,
  FusionRegistry,
  HeadRegistry,
  MetricLossRegistry,
  type BackboneFactory,
  type BranchFactory,
  type ClassificationLossFactory,
  type FusionFactory,
  type HeadFactory,
  type MetricLossFactory,
  SystemRegistry,
} from './tokens.js';
import type { SystemDefinition } from '../systems/types.js';

/**
 * Plug-ins from user code: each helper returns a ContainerModule that adds one named factory to a
 * family's registry when the container first resolves it. Pass the modules to
 * buildContainer / buildModel (`extraModules`); nothing global is touched, so a plug-in lives
 * exactly as long as the run it was given to. A name that already exists is an error unless
 * `force` is set (then it replaces the built-in on purpose).
 */
export interface PluginOptions {
  force?: boolean;
}

function plugin<F>(
  token: ServiceIdentifier<Registry<F>>,
  name: string,
  factory: F,
  opts: PluginOptions,
): ContainerModule {
  return new ContainerModule(({ onActivation }) => {
    onActivation<Registry<F>>(token, (_ctx, registry) => registry.register(name, factory, opts));
  });
}

/** A feature branch usable in `features.branches`. */
export function registerBranch(name: string, factory: BranchFactory, opts: PluginOptions = {}): ContainerModule {
  return plugin(BranchRegistry, name, factory, opts);
}

export function registerFusion(name: string, factory: FusionFactory, opts: PluginOptions = {}): ContainerModule {
  return plugin(FusionRegistry, name, factory, opts);
}

export function registerBackbone(name: string, factory: BackboneFactory, opts: PluginOptions = {}): ContainerModule {
  return plugin(BackboneRegistry, name, factory, opts);
}

export function registerHead(name: string, factory: HeadFactory, opts: PluginOptions = {}): ContainerModule {
  return plugin(HeadRegistry, name, factory, opts);
}

export function registerClassificationLoss(
  name: string,
  factory: ClassificationLossFactory,
  opts: PluginOptions = {},
): ContainerModule {
  return plugin(ClassificationLossRegistry, name, factory, opts);
}

export function registerMetricLoss(
  name: string,
  factory: MetricLossFactory,
  opts: PluginOptions = {},
): ContainerModule {
  return plugin(MetricLossRegistry, name, factory, opts);
}

/** A system usable as `system: <name>` (front end + model + objective + scorer). */
export function registerSystem(name: string, definition: SystemDefinition, opts: PluginOptions = {}): ContainerModule {
  return plugin(SystemRegistry, name, definition, opts);
}
