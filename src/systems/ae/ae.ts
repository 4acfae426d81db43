import type * as tf from '@tensorflow/tfjs';
import type { AeConfig } from './config.js';
import type { ForwardContext } from '../../model/types.js';
import { DenseStack, type DenseLayerSpec } from '../dense.js';
import { frameVectors } from '../frontends.js';
import { rowMse } from '../objectives.js';
import type { LogMelDetector } from '../logmel-system.js';

/**
 * AE, the DCASE 2020 Task 2 baseline (Koizumi et al., "Description and discussion on DCASE2020
 * Challenge Task2", 2020; y-kawagu/dcase2020_task2_baseline, keras_model.py and 00_train.py):
 * vectors of 5 consecutive log-Mel frames (640-d), dense 128 x 4 -> 8 -> 128 x 4 each with
 * BatchNorm + ReLU, a linear 640-d output; trained with MSE, one model per machine type; the
 * anomaly score is the mean over a clip's vectors of the per-vector mean squared error.
 */
export function aeLayers(cfg: AeConfig, inputDim: number): DenseLayerSpec[] {
  const hidden = (): DenseLayerSpec => ({ units: cfg.hidden, batchNorm: true, relu: true });
  return [
    ...Array.from({ length: cfg.layers }, hidden),
    { units: cfg.bottleneck, batchNorm: true, relu: true },
    ...Array.from({ length: cfg.layers }, hidden),
    { units: inputDim, batchNorm: false, relu: false },
  ];
}

export class AutoEncoder implements LogMelDetector {
  readonly termNames = ['mse'] as const;
  readonly modules: readonly DenseStack[];
  readonly net: DenseStack;

  constructor(
    private readonly cfg: AeConfig,
    nMels: number,
    name: string,
    seed: number,
  ) {
    const dim = cfg.context * nMels;
    this.net = new DenseStack(name, seed, dim, aeLayers(cfg, dim));
    this.modules = [this.net];
  }

  /** Per-vector reconstruction error [B, N]. */
  private errors(logmel: tf.Tensor3D, ctx: ForwardContext): tf.Tensor2D {
    const v = frameVectors(logmel, this.cfg.context, 'ae.context');
    const [b, n, d] = v.shape;
    const flat = v.reshape([b * n, d]) as tf.Tensor2D;
    return rowMse(this.net.apply(flat, ctx), flat).reshape([b, n]);
  }

  objective(logmel: tf.Tensor3D, _labels: tf.Tensor1D, ctx: ForwardContext) {
    const mse = this.errors(logmel, ctx).mean() as tf.Scalar;
    return { total: mse, terms: { mse } };
  }

  clipScores(logmel: tf.Tensor3D): tf.Tensor1D {
    return this.errors(logmel, { training: false, updates: [] }).mean(1) as tf.Tensor1D;
  }
}
