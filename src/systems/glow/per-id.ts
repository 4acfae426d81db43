import * as tf from '@tensorflow/tfjs';
import type { GlowConfig } from './config.js';
import type { ForwardContext } from '../../model/types.js';
import { BaseModule } from '../../model/module.js';
import { melWindows, clipMean } from '../frontends.js';
import type { LogMelDetector } from '../logmel-system.js';
import { Glow } from './flow.js';

/**
 * The target-vs-outlier decision of each per-ID flow: P(target | x) = sigmoid(s * (l_k(x) - c_k)),
 * with l_k(x) = log p_k(x) / D the flow's log-likelihood per dimension, s = `glow.outlierScale`
 * (fixed) and c_k a learned threshold per flow. It is the posterior of "x is the flow's own
 * machine" when the outlier sounds' density is taken as constant over the region the flow models.
 * c_k starts at the mean of l_k over the first training batch (like actnorm, Glow §3.1), so every
 * decision starts undecided whatever the scale of the log-likelihoods; the "initialised" flag is
 * state, so a resumed run does not initialise again.
 */
export class OutlierThresholds extends BaseModule {
  readonly threshold: tf.Variable;
  private readonly done: tf.Variable;
  private ready = false;

  constructor(name: string, seed: number, flows: number) {
    super(name, seed);
    this.threshold = this.param('threshold', this.init.constant([flows], 0));
    this.done = this.buffer('initialised', this.init.constant([1], 0, false));
  }

  /** Sets the thresholds from a first training batch's per-dimension log-likelihoods [M, K] (once). */
  initialise(perDim: tf.Tensor2D, ctx: ForwardContext): void {
    if (!ctx.training || this.ready) return;
    tf.tidy(() => {
      // d * old + (1 - d) * init is exactly one or the other for d in {0, 1}: no read-back inside the tape.
      const d = this.done;
      const init = tf.mean(perDim, 0);
      this.threshold.assign(tf.add(tf.mul(d, this.threshold), tf.mul(tf.sub(1, d), init)));
      this.done.assign(tf.ones([1]));
    });
    this.ready = true;
  }
}

/**
 * Outlier term of the per-ID objective: the mean over every (segment, flow) pair of the binary
 * cross-entropy of sigmoid(scale * (perDim - threshold)) against target = [segment's ID = flow],
 * written stably as softplus(z) - t * z.
 */
export function outlierCrossEntropy(
  perDim: tf.Tensor2D,
  target: tf.Tensor2D,
  threshold: tf.Tensor,
  scale: number,
): tf.Scalar {
  const z = tf.mul(tf.sub(perDim, threshold), scale);
  return tf.mean(tf.sub(tf.softplus(z), tf.mul(target, z))) as tf.Scalar;
}

/**
 * Glow-Aff as Dohi et al. train it ("Flow-based self-supervised density estimation for anomalous
 * sound detection", ICASSP 2021, arXiv 2103.08801): one Glow per machine ID, trained to give its
 * own ID's sounds (target data) a high likelihood and the other IDs of the same machine type
 * (outlier data) a low one. Every flow of a type sees every segment of the type's batch: the
 * objective is the NLL per dimension of each segment under its own ID's flow, plus
 * `outlierWeight` x the target-vs-outlier cross-entropy of every flow on every segment (see
 * OutlierThresholds; the exact form of the original's outlier term is not in our sources, so this
 * form is ours). Score: NLL per dimension under the clip's own ID's flow, averaged over segments.
 */
export class PerIdGlowDetector implements LogMelDetector {
  readonly termNames = ['nll', 'outlier'] as const;
  readonly modules: ReadonlyArray<Glow | OutlierThresholds>;
  readonly flows: readonly Glow[];
  readonly thresholds: OutlierThresholds;

  constructor(
    private readonly cfg: GlowConfig,
    nMels: number,
    machineIds: readonly string[],
    name: string,
    seed: number,
  ) {
    this.flows = machineIds.map(
      (id) =>
        new Glow(`${name}/${id}`, seed, {
          height: nMels,
          width: cfg.segment,
          levels: cfg.levels,
          steps: cfg.steps,
          hidden: cfg.hidden,
          affine: cfg.coupling === 'affine',
          classes: 1,
        }),
    );
    this.thresholds = new OutlierThresholds(`${name}/outlier`, seed, machineIds.length);
    this.modules = [...this.flows, this.thresholds];
  }

  get dims(): number {
    return this.flows[0]!.dims;
  }

  /** log p_k(x) / D of every segment under every ID's flow [B * N, K], and the segments' own IDs. */
  perDimLikelihoods(
    logmel: tf.Tensor3D,
    labels: tf.Tensor1D,
    ctx: ForwardContext,
  ): { perDim: tf.Tensor2D; own: tf.Tensor1D } {
    const x = melWindows(logmel, this.cfg.segment, this.cfg.hop, 'glow.segment');
    const perClip = x.shape[0] / logmel.shape[0];
    const own = labels.reshape([-1, 1]).tile([1, perClip]).reshape([-1]) as tf.Tensor1D;
    const cols = this.flows.map((f) => f.logLikelihoods(x, ctx));
    return { perDim: tf.div(tf.concat(cols, 1), this.dims) as tf.Tensor2D, own };
  }

  /** Mask [M, K]: 1 where the flow is the segment's own ID's. (Built from a comparison: tf.oneHot needs depth >= 2.) */
  private ownMask(own: tf.Tensor1D): tf.Tensor2D {
    const k = tf.range(0, this.flows.length, 1, 'int32').reshape([1, -1]);
    return tf.cast(tf.equal(own.cast('int32').reshape([-1, 1]), k), 'float32') as tf.Tensor2D;
  }

  /** -log p_own(x) / D per segment [M]. */
  private ownNll(perDim: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
    return tf.neg(tf.sum(tf.mul(perDim, mask), 1)) as tf.Tensor1D;
  }

  async prepare(): Promise<void> {
    for (const f of this.flows) await f.prepare();
  }

  objective(logmel: tf.Tensor3D, labels: tf.Tensor1D, ctx: ForwardContext) {
    const { perDim, own } = this.perDimLikelihoods(logmel, labels, ctx);
    this.thresholds.initialise(perDim, ctx);
    const mask = this.ownMask(own);
    const nll = this.ownNll(perDim, mask).mean() as tf.Scalar;
    const outlier = outlierCrossEntropy(perDim, mask, this.thresholds.threshold, this.cfg.outlierScale);
    return { total: nll.add(outlier.mul(this.cfg.outlierWeight)) as tf.Scalar, terms: { nll, outlier } };
  }

  clipScores(logmel: tf.Tensor3D, labels: tf.Tensor1D): tf.Tensor1D {
    const { perDim, own } = this.perDimLikelihoods(logmel, labels, { training: false, updates: [] });
    return clipMean(this.ownNll(perDim, this.ownMask(own)), logmel.shape[0]);
  }
}
