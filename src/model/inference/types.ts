import type * as tf from '@tensorflow/tfjs';
import type { ModelInputs } from '../inputs.js';

/**
 * Evaluation-mode computations with the BatchNorms folded away (this folder). A folded part owns
 * the tensors it derived from the weights (folded kernels, biases) and frees them in dispose();
 * the trained model is untouched. Folding is a snapshot: re-fold after the weights change.
 */
export interface FoldedPart<I, O> {
  apply(x: I): O;
  dispose(): void;
}

/** A branch in evaluation mode: inputs -> its [B, M, T] map. */
export type FoldedBranch = FoldedPart<ModelInputs, tf.Tensor3D>;

/** A backbone in evaluation mode: [B, H, W, C] -> embedding [B, D]. */
export type FoldedBackbone = FoldedPart<tf.Tensor4D, tf.Tensor2D>;

/** The whole model in evaluation mode (AsdModel.fold()): the same embedding as embed() with training false. */
export interface InferenceModel {
  embed(inputs: ModelInputs): tf.Tensor2D;
  dispose(): void;
}
