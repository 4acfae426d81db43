import * as tf from '@tensorflow/tfjs';
import type { ExperimentConfig } from '../config/schema.js';
import type { AsdModel } from '../model/types.js';
import { FoldCache } from '../model/inference/cache.js';
import type { RunLosses } from '../registry/tokens.js';
import type { PartRegistries } from '../registry/parts.js';
import { assembleLosses, assembleModel } from '../registry/container.js';
import { arcFaceLoss, anomalyScoreTensor, cosineMatrix } from '../losses/index.js';
import { UserError } from '../util/errors.js';
import type { AsdSystem, SystemArgs, SystemDefinition } from './types.js';
import { BUILTIN_CONFIG_KEYS } from './config-keys.js';

/**
 * The paper's family (FGASpecNet, TASTgram, STgram-MFN): the 4-channel branch stack ->
 * MobileFaceNet -> embedding, an ArcFace-family objective (+ SoftTriple), and the score
 * A(x) = -log softmax(z(x))[machine ID] (§3.1). One model for all machine types.
 */
export class ClassifierSystem implements AsdSystem {
  readonly termNames = ['cls', 'metric'] as const;
  readonly mixupAlpha: number | null;
  /** The evaluation-mode model (BatchNorm folded, ops fused), re-folded when the weights change. */
  private readonly folded = new FoldCache();

  constructor(
    private readonly config: ExperimentConfig,
    readonly model: AsdModel,
    private readonly losses: { classification: NonNullable<RunLosses['classification']>; metric: RunLosses['metric'] },
  ) {
    this.mixupAlpha = losses.classification.mixup ? losses.classification.alpha : null;
  }

  get inputChannels(): number {
    return this.model.branches.length;
  }

  get clip() {
    return this.model.clip;
  }

  trainable(): Map<string, tf.Variable> {
    return new Map([...this.model.trainable(), ...(this.losses.metric?.trainable() ?? [])]);
  }

  lrMultipliers(): Map<string, number> {
    const m = this.losses.metric;
    return new Map([...(m?.trainable().keys() ?? [])].map((k) => [k, m!.lrMultiplier] as const));
  }

  adamEpsilons(): Map<string, number> {
    const m = this.losses.metric;
    if (m?.eps === undefined) return new Map();
    return new Map([...m.trainable().keys()].map((k) => [k, m.eps!] as const));
  }

  state(): Map<string, tf.Variable> {
    return this.model.state();
  }

  paramsByModule(): Record<string, number> {
    return this.model.paramsByModule();
  }

  objectiveParams(): Record<string, number> {
    const m = this.losses.metric;
    return m ? { [m.name]: [...m.trainable().values()].reduce((n, v) => n + v.size, 0) } : {};
  }

  /** §2.3: L = L_cls + lambda_ST * L_ST. */
  objective(...[inputs, targets, ctx]: Parameters<AsdSystem['objective']>) {
    const emb = this.model.embed(inputs, ctx);
    const cls = this.losses.classification.compute(emb, this.headWeight(), targets);
    const met = this.losses.metric ? this.losses.metric.compute(emb, targets) : null;
    const total = met ? (cls.add(met.mul(this.losses.metric!.weight)) as tf.Scalar) : cls;
    return { total, terms: { cls, metric: met ?? tf.scalar(0) } };
  }

  /** Validation cross-entropy (ArcFace logits with margin, no mixup), the references' selection criterion. */
  async validationLoss(...[inputs, labels]: Parameters<AsdSystem['validationLoss']>): Promise<number> {
    const cls = this.config.loss.classification!;
    // Folded outside the tidy: the cache keeps the folded weights beyond this call.
    const model = this.folded.get(this.model);
    const l = tf.tidy(() =>
      arcFaceLoss(model.embed(inputs), this.headWeight(), labels, { margin: cls.margin, scale: cls.scale }),
    );
    const v = (await l.data())[0]!;
    l.dispose();
    return v;
  }

  /**
   * The validation loss as above and the ID-classification accuracy: the predicted ID is the
   * class of the largest cosine logit (no margin), compared with the clip's ID.
   */
  async validationMetrics(
    ...[inputs, labels]: Parameters<AsdSystem['validationLoss']>
  ): Promise<{ loss: number; accuracy: number }> {
    const cls = this.config.loss.classification!;
    const model = this.folded.get(this.model);
    const [l, a] = tf.tidy(() => {
      const emb = model.embed(inputs);
      const w = this.headWeight();
      const loss = arcFaceLoss(emb, w, labels, { margin: cls.margin, scale: cls.scale });
      const hit = tf.equal(tf.argMax(cosineMatrix(emb, w), 1), tf.cast(labels, 'int32'));
      return [loss, tf.mean(tf.cast(hit, 'float32'))];
    });
    const [loss, accuracy] = [(await l.data())[0]!, (await a.data())[0]!];
    tf.dispose([l, a]);
    return { loss, accuracy };
  }

  async score(...[inputs, labels]: Parameters<AsdSystem['score']>): Promise<Float32Array> {
    const cls = this.config.loss.classification!;
    const opts = { margin: cls.margin, scale: cls.scale, marginAtTest: this.config.eval.marginAtTest };
    const model = this.folded.get(this.model);
    const a = tf.tidy(() => anomalyScoreTensor(model.embed(inputs), this.headWeight(), labels, opts));
    const out = Float32Array.from(await a.data());
    a.dispose();
    return out;
  }

  private headWeight(): tf.Tensor2D {
    return this.model.head.weight as tf.Tensor as tf.Tensor2D;
  }

  dispose(): void {
    this.folded.dispose();
    this.model.dispose();
    if (this.losses.metric) tf.dispose([...this.losses.metric.trainable().values()]);
  }
}

/** Which of the paper's rows a classifier config is: the branch list and the objective decide. */
function paperRow(config: ExperimentConfig): string | null {
  const b = config.features.branches.join(',');
  const cls = config.loss.classification?.name;
  const metric = config.loss.metric !== null;
  if (b === 'logmel,tgram,tagram,fga-spec' && cls === 'noisy-arcmix' && metric) return 'fgaspecnet';
  if (b === 'logmel,tgram,tagram' && cls === 'noisy-arcmix' && !metric) return 'tastgram';
  if (b === 'logmel,tgram' && cls === 'arcface' && !metric) return 'stgram-mfn';
  return null;
}

function check(config: ExperimentConfig, parts: PartRegistries): void {
  config.features.branches.forEach((n, i) => parts.branches.get(n, `features.branches[${i}]`));
  parts.fusions.get(config.model.fusion, 'model.fusion');
  parts.backbones.get(config.model.backbone, 'model.backbone');
  parts.heads.get(config.model.head, 'model.head');
  if (!config.loss.classification) {
    throw new UserError(
      'loss.classification: null is not allowed; the anomaly score (§3.1) is read from the ArcFace head it trains',
    );
  }
  parts.classificationLosses.get(config.loss.classification.name, 'loss.classification.name');
  if (config.loss.metric) parts.metricLosses.get(config.loss.metric.name, 'loss.metric.name');
  // MobileFaceNet's training-mode BatchNorm needs more than one clip per (micro-)batch; known
  // from the config, so refused before a run starts rather than after the model is built.
  if (config.train.batchSize < 2)
    throw new UserError(
      `train.batchSize: ${config.train.batchSize} is too small; BatchNorm in training mode needs at least 2 clips per batch`,
    );
  if (config.train.microBatch !== null && config.train.microBatch < 2) {
    throw new UserError(
      `train.microBatch: ${config.train.microBatch} is too small; each micro-batch is normalised on its own and needs at least 2 clips`,
    );
  }
}

function build({ config, classes, prefix, parts }: SystemArgs): ClassifierSystem {
  if (prefix !== '') throw new Error('the classifier system trains one model for all machine types');
  check(config, parts);
  // Names -> factories -> modules, from the run's registries (no container per build).
  const model = assembleModel(config, classes.length, parts);
  try {
    const { classification, metric } = assembleLosses(config, classes.length, parts);
    return new ClassifierSystem(config, model, { classification: classification!, metric });
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export const classifierSystem: SystemDefinition = {
  perType: () => false,
  paperRow,
  configKeys: BUILTIN_CONFIG_KEYS.classifier,
  check,
  build,
};
