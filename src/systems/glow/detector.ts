import * as tf from '@tensorflow/tfjs';
import type { GlowConfig } from './config.js';
import type { ForwardContext } from '../../model/types.js';
import { melWindows, clipMean } from '../frontends.js';
import { negLogSoftmax } from '../objectives.js';
import type { LogMelDetector } from '../logmel-system.js';
import { Glow } from './flow.js';

/**
 * Glow-Aff (Dohi, Endo, Purohit, Tanabe, Kawaguchi, "Flow-based self-supervised density
 * estimation for anomalous sound detection", ICASSP 2021, arXiv 2103.08801): Glow with affine
 * coupling on log-Mel segments, trained so that a machine's own sounds get a higher likelihood
 * than the other machines of its type. Ours, per machine type: the top prior is conditioned on
 * the machine ID, and the objective is NLL(x | own ID) per dimension plus `idWeight` x the
 * cross-entropy of softmax_k log p(x | k) over the type's IDs (the self-supervised term: push the
 * own ID's likelihood above the others'). The original trains one flow per target ID with the
 * other IDs as outlier data; this conditioning serves all IDs of a type with one flow (our
 * approximation, stated in docs/systems.md). Score: NLL(x | own ID) per dimension, averaged over a
 * clip's segments.
 */
export class GlowDetector implements LogMelDetector {
  readonly termNames = ['nll', 'id'] as const;
  readonly modules: readonly Glow[];
  readonly flow: Glow;

  constructor(
    private readonly cfg: GlowConfig,
    nMels: number,
    classes: number,
    name: string,
    seed: number,
  ) {
    this.flow = new Glow(name, seed, {
      height: nMels,
      width: cfg.segment,
      levels: cfg.levels,
      steps: cfg.steps,
      hidden: cfg.hidden,
      affine: cfg.coupling === 'affine',
      classes,
    });
    this.modules = [this.flow];
  }

  /** Per-segment log p(x | k) [B * N, K] and the segments' own-ID labels. */
  private likelihoods(
    logmel: tf.Tensor3D,
    labels: tf.Tensor1D,
    ctx: ForwardContext,
  ): { ll: tf.Tensor2D; own: tf.Tensor1D } {
    const x = melWindows(logmel, this.cfg.segment, this.cfg.hop, 'glow.segment');
    const perClip = x.shape[0] / logmel.shape[0];
    const own = labels.reshape([-1, 1]).tile([1, perClip]).reshape([-1]) as tf.Tensor1D;
    return { ll: this.flow.logLikelihoods(x, ctx), own };
  }

  /** -log p(x | own ID) / D per segment. */
  private static ownNll(ll: tf.Tensor2D, own: tf.Tensor1D, dims: number): tf.Tensor1D {
    return tf.neg(tf.sum(tf.mul(ll, tf.oneHot(own, ll.shape[1])), 1)).div(dims) as tf.Tensor1D;
  }

  async prepare(): Promise<void> {
    await this.flow.prepare();
  }

  objective(logmel: tf.Tensor3D, labels: tf.Tensor1D, ctx: ForwardContext) {
    const { ll, own } = this.likelihoods(logmel, labels, ctx);
    const nll = GlowDetector.ownNll(ll, own, this.flow.dims).mean() as tf.Scalar;
    const id = negLogSoftmax(ll, own).mean() as tf.Scalar;
    return { total: nll.add(id.mul(this.cfg.idWeight)) as tf.Scalar, terms: { nll, id } };
  }

  clipScores(logmel: tf.Tensor3D, labels: tf.Tensor1D): tf.Tensor1D {
    const { ll, own } = this.likelihoods(logmel, labels, { training: false, updates: [] });
    return clipMean(GlowDetector.ownNll(ll, own, this.flow.dims), logmel.shape[0]);
  }
}
