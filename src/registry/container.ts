import { Container, ContainerModule } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import type { AsdModel, FeatureBranch, Module } from '../model/types.js';
import { ZooModel } from '../model/asd-model.js';
import { clipGeometry } from '../model/clip.js';
import type { Catalog, Parts } from './catalog.js';
import type { PartRegistries } from './parts.js';
import {
  BackboneRegistry,
  BranchRegistry,
  ClassificationLossRegistry,
  FusionRegistry,
  HeadRegistry,
  LossesFactory,
  MetricLossRegistry,
  ModelFactory,
  NumClasses,
  RunConfig,
  SystemRegistry,
  type RunLosses,
} from './tokens.js';

export { clipGeometry };

export interface ContainerOptions {
  /** Classes (machine IDs) the head scores: 41 for the full DCASE 2020 Task 2 set. */
  numClasses: number;
  /** Plug-ins (registerBranch(...), ...) or any ContainerModule, loaded after the catalog's parts. */
  extraModules?: readonly ContainerModule[];
}

/**
 * One ContainerModule binding each family's registry to a copy of the catalog's (a singleton per
 * container), so a plug-in module added to one container never leaks into another's.
 */
export function catalogModule(catalog: Catalog): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<BranchRegistry>(BranchRegistry)
      .toDynamicValue(() => catalog.branches.clone())
      .inSingletonScope();
    bind<FusionRegistry>(FusionRegistry)
      .toDynamicValue(() => catalog.fusions.clone())
      .inSingletonScope();
    bind<BackboneRegistry>(BackboneRegistry)
      .toDynamicValue(() => catalog.backbones.clone())
      .inSingletonScope();
    bind<HeadRegistry>(HeadRegistry)
      .toDynamicValue(() => catalog.heads.clone())
      .inSingletonScope();
    bind<ClassificationLossRegistry>(ClassificationLossRegistry)
      .toDynamicValue(() => catalog.classificationLosses.clone())
      .inSingletonScope();
    bind<MetricLossRegistry>(MetricLossRegistry)
      .toDynamicValue(() => catalog.metricLosses.clone())
      .inSingletonScope();
    bind<SystemRegistry>(SystemRegistry)
      .toDynamicValue(() => catalog.systems.clone())
      .inSingletonScope();
  });
}

/** The registries of one container (each resolved once, plug-in modules applied). */
function partsOf(container: Container): Parts {
  return {
    branches: container.get<BranchRegistry>(BranchRegistry),
    fusions: container.get<FusionRegistry>(FusionRegistry),
    backbones: container.get<BackboneRegistry>(BackboneRegistry),
    heads: container.get<HeadRegistry>(HeadRegistry),
    classificationLosses: container.get<ClassificationLossRegistry>(ClassificationLossRegistry),
    metricLosses: container.get<MetricLossRegistry>(MetricLossRegistry),
    systems: container.get<SystemRegistry>(SystemRegistry),
  };
}

/**
 * The parts a run is built from: the catalog's, plus the parts of any ContainerModule plug-ins
 * (registerBranch(...) from a script). One container, built once per run, and only when there
 * are such modules.
 */
export function partsWith(catalog: Catalog, extraModules: readonly ContainerModule[] = []): Parts {
  if (extraModules.length === 0) return catalog;
  const container = new Container();
  container.loadSync(catalogModule(catalog), ...extraModules);
  return partsOf(container);
}

/**
 * A run's container, built from the validated config: the catalog's families, the run's config
 * and class count, the model and loss factories, then the caller's plug-in modules.
 */
export function buildContainer(config: ExperimentConfig, opts: ContainerOptions & { catalog: Catalog }): Container {
  const container = new Container();
  const run = new ContainerModule(({ bind }) => {
    bind<RunConfig>(RunConfig).toConstantValue(config);
    bind<NumClasses>(NumClasses).toConstantValue(opts.numClasses);
    bind<ModelFactory>(ModelFactory).toDynamicValue(
      (ctx) => () =>
        assembleModel(ctx.get<RunConfig>(RunConfig), ctx.get<NumClasses>(NumClasses), {
          branches: ctx.get<BranchRegistry>(BranchRegistry),
          fusions: ctx.get<FusionRegistry>(FusionRegistry),
          backbones: ctx.get<BackboneRegistry>(BackboneRegistry),
          heads: ctx.get<HeadRegistry>(HeadRegistry),
        }),
    );
    bind<LossesFactory>(LossesFactory).toDynamicValue(
      (ctx) => () =>
        assembleLosses(ctx.get<RunConfig>(RunConfig), ctx.get<NumClasses>(NumClasses), {
          classificationLosses: ctx.get<ClassificationLossRegistry>(ClassificationLossRegistry),
          metricLosses: ctx.get<MetricLossRegistry>(MetricLossRegistry),
        }),
    );
  });
  container.loadSync(catalogModule(opts.catalog), run, ...(opts.extraModules ?? []));
  return container;
}

/**
 * Names -> factories -> modules. Each factory gets only its own slice: branches the clip geometry
 * and features.fga; the backbone its input size, model.bottlenecks and model.embeddingDim; the head
 * the class count and embedding size. Unknown names fail here, naming the config key.
 */
export function assembleModel(
  config: ExperimentConfig,
  numClasses: number,
  reg: Pick<PartRegistries, 'branches' | 'fusions' | 'backbones' | 'heads'>,
): AsdModel {
  const clip = clipGeometry(config);
  const { branches: branchNames, fga } = config.features;
  const factories = branchNames.map((n, i) => reg.branches.get(n, `features.branches[${i}]`));
  const fusionFactory = reg.fusions.get(config.model.fusion, 'model.fusion');
  const backboneFactory = reg.backbones.get(config.model.backbone, 'model.backbone');
  const headFactory = reg.heads.get(config.model.head, 'model.head');

  const moduleNames = branchNames.map((n, i) => (branchNames.indexOf(n) === i ? n : `${n}#${i}`));
  const built: Module[] = [];
  const keep = <M extends Module>(m: M): M => (built.push(m), m);
  try {
    const branches: FeatureBranch[] = factories.map((f, i) =>
      keep(f({ name: moduleNames[i]!, seed: config.seed, clip, features: { fga } })),
    );
    const fusion = keep(fusionFactory({ name: config.model.fusion, seed: config.seed, branches: moduleNames, clip }));
    const backbone = keep(
      backboneFactory({
        name: config.model.backbone,
        seed: config.seed,
        inChannels: branchNames.length,
        height: clip.nMels,
        width: clip.frames,
        embeddingDim: config.model.embeddingDim,
        bottlenecks: config.model.bottlenecks,
      }),
    );
    const head = keep(
      headFactory({ name: config.model.head, seed: config.seed, numClasses, embeddingDim: config.model.embeddingDim }),
    );
    return new ZooModel(branches, fusion, backbone, head, clip);
  } catch (e) {
    // Free the weights of whatever was built before the failure.
    for (const b of built) for (const v of [...b.trainable().values(), ...b.state().values()]) v.dispose();
    throw e;
  }
}

export function assembleLosses(
  config: ExperimentConfig,
  numClasses: number,
  reg: Pick<PartRegistries, 'classificationLosses' | 'metricLosses'>,
): RunLosses {
  const dim = config.model.embeddingDim;
  const cls = config.loss.classification;
  const met = config.loss.metric;
  return {
    classification: cls
      ? reg.classificationLosses.get(cls.name, 'loss.classification.name')(cls, numClasses, dim, config.seed)
      : null,
    metric: met ? reg.metricLosses.get(met.name, 'loss.metric.name')(met, numClasses, dim, config.seed) : null,
  };
}
