import * as tf from '@tensorflow/tfjs';
import { Registry } from '../registry/registry.js';
import type { ClassificationLossConfig, MetricLossConfig } from '../config/schema.js';
import type { ClassificationLoss, MetricLoss, MixTargets } from './types.js';
import { arcFaceLoss } from './arcface.js';
import { arcMixLoss, noisyArcMixLoss } from './arcmix.js';
import { softTripleMixedLoss } from './softtriple.js';
import { SeededRandom } from '../random/index.js';

/** Builds a classification loss from its YAML block (`loss.classification`). */
export type ClassificationLossFactory = (
  cfg: ClassificationLossConfig,
  numClasses: number,
  embeddingDim: number,
  seed: number,
) => ClassificationLoss;

/** Builds a metric loss from its YAML block (`loss.metric`); it owns its learned parameters. */
export type MetricLossFactory = (
  cfg: MetricLossConfig,
  numClasses: number,
  embeddingDim: number,
  seed: number,
) => MetricLoss;

/** 'arcface': plain ArcFace, no mixup (§2.3 L_AF). */
export const arcFaceFactory: ClassificationLossFactory = (cfg) => {
  const opts = { margin: cfg.margin, scale: cfg.scale };
  return {
    name: 'arcface',
    mixup: false,
    alpha: cfg.alpha,
    compute: (emb, w, t: MixTargets) => arcFaceLoss(emb, w, t.labelsA, opts),
  };
};

/** 'noisy-arcmix': the TASTgram code's Noisy-ArcMix (margin on label A only), the default. */
export const noisyArcMixFactory: ClassificationLossFactory = (cfg) => {
  const opts = { margin: cfg.margin, scale: cfg.scale };
  return {
    name: 'noisy-arcmix',
    mixup: true,
    alpha: cfg.alpha,
    compute: (emb, w, t) => noisyArcMixLoss(emb, w, t.labelsA, t.labelsB, t.lam, opts),
  };
};

/** 'arcmix': the paper's formula, two ArcFace terms each with its margin (§2.3). */
export const arcMixFactory: ClassificationLossFactory = (cfg) => {
  const opts = { margin: cfg.margin, scale: cfg.scale };
  return {
    name: 'arcmix',
    mixup: true,
    alpha: cfg.alpha,
    compute: (emb, w, t) => arcMixLoss(emb, w, t.labelsA, t.labelsB, t.lam, opts),
  };
};

/**
 * Initial SoftTriple centres [C*K, D], as the reference initialises its [D, C*K] parameter:
 * kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C*K
 * (PyTorch takes fan_in from dimension 1 of the [D, C*K] tensor). Normalised inside the loss.
 * Seeded, so the same run seed gives the same centres.
 */
export function initSoftTripleCenters(numClasses: number, K: number, embeddingDim: number, seed: number): Float32Array {
  const n = numClasses * K;
  const bound = 1 / Math.sqrt(n);
  const rng = new SeededRandom(seed);
  const out = new Float32Array(n * embeddingDim);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * bound;
  return out;
}

/** Key of the centres in `trainable()` (and so in checkpoints). */
export const SOFTTRIPLE_CENTERS_KEY = 'softtriple.centers';

/** 'softtriple' (§2.3 L_ST; Qian et al. ICCV 2019). */
export const softTripleFactory: MetricLossFactory = (cfg, numClasses, embeddingDim, seed) => {
  const init = initSoftTripleCenters(numClasses, cfg.K, embeddingDim, seed);
  // No variable name: tfjs names are global, and two models in one process must not collide.
  const centers = tf.variable(tf.tensor2d(init, [numClasses * cfg.K, embeddingDim]), true);
  const opts = { gamma: cfg.gamma, lambda: cfg.lambda, delta: cfg.delta, K: cfg.K, tau: cfg.tau };
  return {
    name: 'softtriple',
    weight: cfg.weight,
    lrMultiplier: cfg.lrMultiplier,
    eps: cfg.eps,
    trainable: () => new Map([[SOFTTRIPLE_CENTERS_KEY, centers]]),
    compute: (emb, t) =>
      softTripleMixedLoss(emb, centers as tf.Tensor as tf.Tensor2D, t.labelsA, t.labelsB, t.lam, opts),
  };
};

export interface LossRegistries {
  classificationLosses: Registry<ClassificationLossFactory>;
  metricLosses: Registry<MetricLossFactory>;
}

/** Fresh registries holding every built-in loss (explicit list; nothing registers on import). */
export function createLossRegistries(): LossRegistries {
  const classificationLosses = new Registry<ClassificationLossFactory>('classification loss')
    .register('arcface', arcFaceFactory)
    .register('noisy-arcmix', noisyArcMixFactory)
    .register('arcmix', arcMixFactory);
  const metricLosses = new Registry<MetricLossFactory>('metric loss').register('softtriple', softTripleFactory);
  return { classificationLosses, metricLosses };
}
