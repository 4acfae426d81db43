import * as tf from '@tensorflow/tfjs';
import type { IdnnConfig } from './config.js';
import type { ForwardContext } from '../../model/types.js';
import { DenseStack, type DenseLayerSpec } from '../dense.js';
import { frameVectors } from '../frontends.js';
import { rowMse } from '../objectives.js';
import type { LogMelDetector } from '../logmel-system.js';

/**
 * IDNN (Suefusa, Nishida, Purohit, Tanabe, Endo, Kawaguchi, "Anomalous sound detection based on
 * interpolation deep neural network", ICASSP 2020, arXiv 2005.09234): of 5 consecutive log-Mel
 * frames the middle one is removed, the other 4 (512-d) are the input, and a dense
 * encoder-decoder predicts the removed frame; trained with MSE, one model per machine type; the
 * anomaly score is the mean interpolation error over a clip. Widths 64 -> 32 -> 16 -> 32 -> 64
 * -> 128 with ReLU between them (no BatchNorm) give 46,416 weights, Table 5's 46 k.
 */
export function idnnLayers(cfg: IdnnConfig, nMels: number): DenseLayerSpec[] {
  const widths = [...cfg.hidden, ...cfg.hidden.slice(0, -1).reverse()];
  return [
    ...widths.map((units) => ({ units, batchNorm: false, relu: true })),
    { units: nMels, batchNorm: false, relu: false },
  ];
}

export class InterpolationDnn implements LogMelDetector {
  readonly termNames = ['mse'] as const;
  readonly modules: readonly DenseStack[];
  readonly net: DenseStack;

  constructor(
    private readonly cfg: IdnnConfig,
    private readonly nMels: number,
    name: string,
    seed: number,
  ) {
    this.net = new DenseStack(name, seed, (cfg.context - 1) * nMels, idnnLayers(cfg, nMels));
    this.modules = [this.net];
  }

  /** Per-window interpolation error [B, N]. */
  private errors(logmel: tf.Tensor3D, ctx: ForwardContext): tf.Tensor2D {
    const v = frameVectors(logmel, this.cfg.context, 'idnn.context');
    const [b, n] = v.shape;
    const m = this.nMels;
    const mid = (this.cfg.context - 1) / 2;
    const flat = v.reshape([b * n, this.cfg.context * m]) as tf.Tensor2D;
    const before = tf.slice(flat, [0, 0], [b * n, mid * m]);
    const target = tf.slice(flat, [0, mid * m], [b * n, m]);
    const after = tf.slice(flat, [0, (mid + 1) * m], [b * n, (this.cfg.context - mid - 1) * m]);
    const pred = this.net.apply(tf.concat([before, after], 1), ctx);
    return rowMse(pred, target).reshape([b, n]);
  }

  objective(logmel: tf.Tensor3D, _labels: tf.Tensor1D, ctx: ForwardContext) {
    const mse = this.errors(logmel, ctx).mean() as tf.Scalar;
    return { total: mse, terms: { mse } };
  }

  clipScores(logmel: tf.Tensor3D): tf.Tensor1D {
    return this.errors(logmel, { training: false, updates: [] }).mean(1) as tf.Tensor1D;
  }
}
