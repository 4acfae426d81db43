import type * as tf from '@tensorflow/tfjs';
import type { BatchNormParams } from './batchnorm-params.js';
import type { FoldedBackbone, FoldedBranch, InferenceModel } from './inference/types.js';
import type { ModelInputs } from './inputs.js';

/**
 * Contracts of the model zoo. Layout: NHWC, H = mel bin (128), W = time frame (T), C = branch.
 * Modules are functional: they own tf.Variables and expose apply(); no tf.layers.
 */

// In a leaf module so inference/types.ts can use it without importing this file.
export type { ModelInputs } from './inputs.js';

/** Per-call context. BatchNorm layers push running-statistic updates here in training mode;
 *  the trainer applies them after the gradient step (they are not part of the gradient). */
export interface ForwardContext {
  training: boolean;
  updates: Array<() => void>;
  /**
   * When set, training-mode BatchNorm layers hand their batch moments here instead of queuing
   * updates, so a step split in micro-batches updates the running statistics once from the
   * whole batch (model/batch-moments.ts).
   */
  moments?: BatchMomentsSink;
}

/** Collects BatchNorm batch moments: the mean and biased variance [C] over `count` values per channel. */
export interface BatchMomentsSink {
  add(params: BatchNormParams, mean: tf.Tensor, variance: tf.Tensor, count: number): void;
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
  /** Optional: a faster evaluation-mode form (BatchNorm folded, ops fused); absent = apply() in evaluation mode. */
  fold?(): FoldedBranch;
}

/** Fusion of branch maps into the backbone input [B, 128, T, C]. §2.2 */
export interface Fusion extends Module {
  combine(maps: tf.Tensor3D[], ctx: ForwardContext): tf.Tensor4D;
}

/** Backbone: [B, H, W, C] -> embedding [B, D]. */
export interface Backbone extends Module {
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
  /** Optional: a faster evaluation-mode form (BatchNorm folded, ops fused); absent = apply() in evaluation mode. */
  fold?(): FoldedBackbone;
}

/** Classification head over machine IDs: the ArcFace weight matrix W [classes, D]. */
export interface Head extends Module {
  readonly weight: tf.Variable;
}

/** Clip geometry fixed by the config (data.seconds, data.sampleRate, features.logmel): weights
 *  whose shape follows the number of frames T (Tgram's LayerNorm, SpecNet, the global
 *  depthwise conv) are sized from it, so shorter clips build a smaller model. */
export interface ClipGeometry {
  sampleRate: number;
  /** N = round(seconds * sampleRate) samples per clip. */
  samples: number;
  /** STFT hop (Tgram's stride follows it). */
  hop: number;
  /** H = number of mel bins (128). */
  nMels: number;
  /** W = T = 1 + floor(N / hop) frames of the centred STFT (313 for 10 s). */
  frames: number;
}

/** What a branch factory receives: its name, seed, the clip geometry and the features.* slice. */
export interface BranchArgs {
  /** Module name, unique in the model (the branch name, suffixed "#i" if listed twice). */
  name: string;
  seed: number;
  clip: ClipGeometry;
  /** features.* of the config minus the branch list (logmel options, fga). */
  features: { fga: { lambda: number; timeKernel: number } };
}

export interface FusionArgs {
  name: string;
  seed: number;
  /** Module names of the branches, in channel order. */
  branches: string[];
  clip: ClipGeometry;
}

export interface BackboneArgs {
  name: string;
  seed: number;
  /** Input map [B, height, width, inChannels] (height = mel bins, width = frames). */
  inChannels: number;
  height: number;
  width: number;
  embeddingDim: number;
  /** model.bottlenecks: STgram-MFN's current or older bottleneck table. */
  bottlenecks: 'current' | 'legacy';
}

export interface HeadArgs {
  name: string;
  seed: number;
  numClasses: number;
  embeddingDim: number;
}

/** The assembled model (src/model/build.ts): branches -> fusion -> backbone -> embedding; head. */
export interface AsdModel {
  readonly branches: readonly FeatureBranch[];
  readonly fusion: Fusion;
  readonly backbone: Backbone;
  readonly head: Head;
  readonly clip: ClipGeometry;
  /** Embedding [B, D] of a batch; checks the input shapes against the clip geometry. */
  embed(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor2D;
  /**
   * The evaluation-mode model with BatchNorms folded into the convs and activations fused
   * (src/model/inference): the embedding of embed() with training false, to float rounding,
   * faster. A snapshot of the current weights; the caller disposes it.
   */
  fold(): InferenceModel;
  /** Every trainable weight, keyed "module/..." (unique). */
  trainable(): Map<string, tf.Variable>;
  /** Every running statistic, keyed "module/...". */
  state(): Map<string, tf.Variable>;
  /** Trainable scalars per module name (branches, fusion, backbone, head). */
  paramsByModule(): Record<string, number>;
  totalParams(): number;
  dispose(): void;
}
