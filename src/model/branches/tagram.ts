import * as tf from '@tensorflow/tfjs';
import type { BranchArgs, FeatureBranch, ModelInputs } from '../types.js';
import { BaseModule } from '../module.js';

/**
 * Temporal attention of TASTgram (§2.1.3): s_t = AvgPool_f(F_LM) + MaxPool_f(F_LM) per frame,
 * F_TA = sigmoid(s_t) broadcast over the mel bins, times F_LM. logmel [B, M, T] -> [B, M, T].
 */
export function temporalAttention(logmel: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const s = tf.add(tf.mean(logmel, 1, true), tf.max(logmel, 1, true)); // [B, 1, T]
    return tf.mul(tf.sigmoid(s), logmel);
  });
}

/** F_TA (§2.1.3): no weights. */
export class TAgramBranch extends BaseModule implements FeatureBranch {
  apply(inputs: ModelInputs): tf.Tensor3D {
    return temporalAttention(inputs.logmel);
  }
}

export function createTAgramBranch(args: BranchArgs): FeatureBranch {
  return new TAgramBranch(args.name, args.seed);
}
