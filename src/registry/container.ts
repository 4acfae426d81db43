import { Container, ContainerModule } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import type { AsdModel, ClipGeometry, FeatureBranch, Module } from '../model/types.js';
import { ZooModel } from '../model/asd-model.js';
import { frameCount } from '../features/logmel.js';
import { builtinModules } from './modules.js';
import {
  BackboneRegistry, BranchRegistry, ClassificationLossRegistry, FusionRegistry, HeadRegistry, LossesFactory,
  MetricLossRegistry, ModelFactory, NumClasses, RunConfig, type RunLosses,
} from './tokens.js';

export interface ContainerOptions {
  /** Classes (machine IDs) the head scores: 41 for the full DCASE 2020 Task 2 set. */
  numClasses: number;
  /** Plug-ins (registerBranch(...), ...) or any ContainerModule, loaded after the built-ins. */
  extraModules?: readonly ContainerModule[];
}

/** The clip geometry a config implies: N = round(seconds * sampleRate), T = 1 + floor(N / hop). */
export function clipGeometry(config: ExperimentConfig): ClipGeometry {
  const samples = Math.round(config.data.seconds * config.data.sampleRate);
  const hop = config.features.logmel.hop;
  return { sampleRate: config.data.sampleRate, samples, hop, nMels: config.features.logmel.nMels, frames: frameCount(samples, hop) };
}

/**
 * The run's container, built once per run from the validated config: the built-in families, the
 * run's config and class count, the model and loss factories, then the caller's plug-ins.
 */
export function buildContainer(config: ExperimentConfig, opts: ContainerOptions): Container {
  const container = new Container();
  const run = new ContainerModule(({ bind }) => {
    bind<RunConfig>(RunConfig).toConstantValue(config);
    bind<NumClasses>(NumClasses).toConstantValue(opts.numClasses);
    bind<ModelFactory>(ModelFactory).toDynamicValue((ctx) => () => assembleModel(ctx.get<RunConfig>(RunConfig), ctx.get<NumClasses>(NumClasses), {
      branches: ctx.get<BranchRegistry>(BranchRegistry),
      fusions: ctx.get<FusionRegistry>(FusionRegistry),
      backbones: ctx.get<BackboneRegistry>(BackboneRegistry),
      heads: ctx.get<HeadRegistry>(HeadRegistry),
    }));
    bind<LossesFactory>(LossesFactory).toDynamicValue((ctx) => () => assembleLosses(ctx.get<RunConfig>(RunConfig), ctx.get<NumClasses>(NumClasses), {
      classification: ctx.get<ClassificationLossRegistry>(ClassificationLossRegistry),
      metric: ctx.get<MetricLossRegistry>(MetricLossRegistry),
    }));
  });
  container.loadSync(...builtinModules, run, ...(opts.extraModules ?? []));
  return container;
}

/** The configured model, with fresh weights. */
export function buildModel(config: ExperimentConfig, numClasses: number, extraModules: readonly ContainerModule[] = []): AsdModel {
  return buildContainer(config, { numClasses, extraModules }).get<ModelFactory>(ModelFactory)();
}

/** The configured losses (a metric loss owns weights: the SoftTriple centres). */
export function buildLosses(config: ExperimentConfig, numClasses: number, extraModules: readonly ContainerModule[] = []): RunLosses {
  return buildContainer(config, { numClasses, extraModules }).get<LossesFactory>(LossesFactory)();
}

interface ModelRegistries {
  branches: BranchRegistry;
  fusions: FusionRegistry;
  backbones: BackboneRegistry;
  heads: HeadRegistry;
}

/**
 * Names -> factories -> modules. Each factory gets only its own slice: branches the clip geometry
 * and features.fga; the backbone its input size, model.bottlenecks and model.embeddingDim; the head
 * the class count and embedding size. Unknown names fail here, naming the config key.
 */
export function assembleModel(config: ExperimentConfig, numClasses: number, reg: ModelRegistries): AsdModel {
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
    const branches: FeatureBranch[] = factories.map((f, i) => keep(f({ name: moduleNames[i]!, seed: config.seed, clip, features: { fga } })));
    const fusion = keep(fusionFactory({ name: config.model.fusion, seed: config.seed, branches: moduleNames, clip }));
    const backbone = keep(backboneFactory({
      name: config.model.backbone, seed: config.seed, inChannels: branchNames.length, height: clip.nMels, width: clip.frames,
      embeddingDim: config.model.embeddingDim, bottlenecks: config.model.bottlenecks,
    }));
    const head = keep(headFactory({ name: config.model.head, seed: config.seed, numClasses, embeddingDim: config.model.embeddingDim }));
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
  reg: { classification: ClassificationLossRegistry; metric: MetricLossRegistry },
): RunLosses {
  const dim = config.model.embeddingDim;
  const cls = config.loss.classification;
  const met = config.loss.metric;
  return {
    classification: cls ? reg.classification.get(cls.name, 'loss.classification.name')(cls, numClasses, dim, config.seed) : null,
    metric: met ? reg.metric.get(met.name, 'loss.metric.name')(met, numClasses, dim, config.seed) : null,
  };
}
