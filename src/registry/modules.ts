import { ContainerModule } from 'inversify';
import { Registry } from './registry.js';
import {
  BackboneRegistry, BranchRegistry, ClassificationLossRegistry, FusionRegistry, HeadRegistry, MetricLossRegistry,
  type BackboneFactory, type BranchFactory, type FusionFactory, type HeadFactory,
} from './tokens.js';
import { createLogMelBranch } from '../model/branches/logmel.js';
import { createTgramBranch } from '../model/branches/tgram.js';
import { createTAgramBranch } from '../model/branches/tagram.js';
import { createSpecNetBranch } from '../model/branches/specnet.js';
import { createFgaSpecBranch } from '../model/branches/fga-spec.js';
import { createConcatFusion } from '../model/fusions/concat.js';
import { createMobileFaceNet } from '../model/backbones/mobilefacenet.js';
import { createArcFaceHead } from '../model/heads/arcface.js';
import { createLossRegistries } from '../losses/registry.js';
import { SystemRegistry } from './tokens.js';
import type { SystemDefinition } from '../systems/types.js';
import { classifierSystem } from '../systems/classifier.js';
import { aeSystem } from '../systems/ae/index.js';
import { idnnSystem } from '../systems/idnn/index.js';
import { mobileNetV2System } from '../systems/mobilenetv2/index.js';
import { glowAffSystem } from '../systems/glow/index.js';

/**
 * One ContainerModule per family, each an explicit list of named implementations (nothing
 * registers itself on import). Registries are bound as singletons built per container, so a
 * plug-in added to one run's container never leaks into another's.
 * Adding a built-in part = one file + one `.register(...)` line here.
 */

/** Feature branches (§2.1, §2.2): the names `features.branches` may list. */
export const branchModule = new ContainerModule(({ bind }) => {
  bind<BranchRegistry>(BranchRegistry)
    .toDynamicValue(() =>
      new Registry<BranchFactory>('feature branch')
        .register('logmel', createLogMelBranch)
        .register('tgram', createTgramBranch)
        .register('tagram', createTAgramBranch)
        .register('specnet', createSpecNetBranch)
        .register('fga-spec', createFgaSpecBranch),
    )
    .inSingletonScope();
});

/** Fusion of the branch maps (§2.2): `model.fusion`. */
export const fusionModule = new ContainerModule(({ bind }) => {
  bind<FusionRegistry>(FusionRegistry)
    .toDynamicValue(() => new Registry<FusionFactory>('fusion').register('concat', createConcatFusion))
    .inSingletonScope();
});

/** Backbones: `model.backbone`. */
export const backboneModule = new ContainerModule(({ bind }) => {
  bind<BackboneRegistry>(BackboneRegistry)
    .toDynamicValue(() => new Registry<BackboneFactory>('backbone').register('mobilefacenet', createMobileFaceNet))
    .inSingletonScope();
});

/** Classification heads: `model.head`. */
export const headModule = new ContainerModule(({ bind }) => {
  bind<HeadRegistry>(HeadRegistry)
    .toDynamicValue(() => new Registry<HeadFactory>('head').register('arcface', createArcFaceHead))
    .inSingletonScope();
});

/** Losses (§2.3): `loss.classification.name`, `loss.metric.name`; the lists live in src/losses. */
export const lossModule = new ContainerModule(({ bind }) => {
  bind<ClassificationLossRegistry>(ClassificationLossRegistry)
    .toDynamicValue(() => createLossRegistries().classificationLosses)
    .inSingletonScope();
  bind<MetricLossRegistry>(MetricLossRegistry)
    .toDynamicValue(() => createLossRegistries().metricLosses)
    .inSingletonScope();
});

/** Systems (front end + model + objective + scorer): `system`. */
export const systemModule = new ContainerModule(({ bind }) => {
  bind<SystemRegistry>(SystemRegistry)
    .toDynamicValue(() =>
      new Registry<SystemDefinition>('system')
        .register('classifier', classifierSystem)
        .register('ae', aeSystem)
        .register('idnn', idnnSystem)
        .register('mobilenetv2', mobileNetV2System)
        .register('glow-aff', glowAffSystem),
    )
    .inSingletonScope();
});

/** The built-in families, in load order. */
export const builtinModules: readonly ContainerModule[] = [branchModule, fusionModule, backboneModule, headModule, lossModule, systemModule];
