import type * as tf from '@tensorflow/tfjs';

/**
 * Contracts of the model zoo. Layout: NHWC, H = mel bin (128), W = time frame (T), C = branch.
 * Modules are functional: they own tf.Variables and expose apply(); no tf.layers.
 */

/** What every branch can read: the raw (possibly mixed) waveform and its (possibly mixed) log-Mel. */
export interface ModelInputs {
  /** [B, N] samples, N = seconds * sampleRate. */
  wave: tf.Tensor2D;
  /** [B, nMels, T] log-Mel F_LM, computed outside the graph (it has no weights) and cached. */
  logmel: tf.Tensor3D;
}

/** Per-call context. BatchNorm layers push running-statistic updates here in training mode;
 *  the trainer applies them after the gradient step (they are not part of the gradient). */
export interface ForwardContext {
  training: boolean;
  updates: Array<() => void>;
}

/** A named group of weights; the name is the module name reported by `exp params`. */
export interface Module {
  readonly name: string;
  /** Trainable weights, keyed by a stable name unique within the model (used in checkpoints). */
  trainable(): Map<string, tf.Variable>;
  /** Non-trainable state (BatchNorm running mean / variance), also saved in checkpoints. */
  state(): Map<string, tf.Variable>;
}

/** A feature branch: batch of inputs -> one 128 x T map per clip ([B, 128, T]). §2.1 */
export interface FeatureBranch extends Module {
  apply(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor3D;
}

/** Fusion of branch maps into the backbone input [B, 128, T, C]. §2.2 */
export interface Fusion extends Module {
  combine(maps: tf.Tensor3D[], ctx: ForwardContext): tf.Tensor4D;
}

/** Backbone: [B, H, W, C] -> embedding [B, D]. */
export interface Backbone extends Module {
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
}

/** Classification head over machine IDs: the ArcFace weight matrix W [classes, D]. */
export interface Head extends Module {
  readonly weight: tf.Variable;
}
