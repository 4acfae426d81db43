import type * as tf from '@tensorflow/tfjs';

/** One batch's targets. Without mixup, labelsB = labelsA and lam = 1. */
export interface MixTargets {
  labelsA: tf.Tensor1D; // int32 class indices
  labelsB: tf.Tensor1D; // int32, the shuffled partner's classes
  lam: number;
  /** labelsA on the host, for systems that route clips by class inside the graph (per-type models). */
  ids?: Int32Array;
}

/** Classification loss family (arcface, noisy-arcmix, arcmix): scalar batch mean. §2.3 */
export interface ClassificationLoss {
  readonly name: string;
  /** Whether the trainer should mix inputs (Noisy-ArcMix / ArcMix) or not (plain ArcFace). */
  readonly mixup: boolean;
  /** Beta(alpha, alpha) parameter for the mixup coefficient. */
  readonly alpha: number;
  compute(emb: tf.Tensor2D, headWeight: tf.Tensor2D, targets: MixTargets): tf.Scalar;
}

/** Metric loss family (softtriple): owns its learned parameters (the centres). §2.3 */
export interface MetricLoss {
  readonly name: string;
  /** lambda_ST in L = L_cls + lambda_ST * L_metric. */
  readonly weight: number;
  /** Learning-rate multiplier for its parameters (SoftTriple reference: 100). */
  readonly lrMultiplier: number;
  /** Adam epsilon for its parameters (loss.metric.eps); absent = the optimizer's 1e-8. */
  readonly eps?: number;
  trainable(): Map<string, tf.Variable>;
  compute(emb: tf.Tensor2D, targets: MixTargets): tf.Scalar;
}
