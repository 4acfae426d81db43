import * as tf from '@tensorflow/tfjs';
import type { BranchArgs, FeatureBranch, ForwardContext, ModelInputs } from '../types.js';
import { BaseModule } from '../module.js';
import { temporalAttentionAvailable, temporalAttentionFused } from '../../backend/kernels/temporal-attention.js';

/**
 * Temporal attention of TASTgram (§2.1.3): s_t = AvgPool_f(F_LM) + MaxPool_f(F_LM) per frame,
 * F_TA = sigmoid(s_t) broadcast over the mel bins, times F_LM. logmel [B, M, T] -> [B, M, T].
 */
export function temporalAttention(logmel: tf.Tensor3D, evaluation = false): tf.Tensor3D {
  // Scoring on wasm: one kernel, the same function within float rounding (no gradient).
  if (evaluation && temporalAttentionAvailable(logmel)) return temporalAttentionFused(logmel);
  return tf.tidy(() => {
    const s = tf.add(tf.mean(logmel, 1, true), tf.max(logmel, 1, true)); // [B, 1, T]
    return tf.mul(tf.sigmoid(s), logmel);
  });
}

/**
 * The maps computed so far, by log-Mel batch: F_TA has no weights, and FGA-Spec's gate recomputes
 * it from the same batch, so the second use takes the first's tensor (a recorded op saves copies
 * of its inputs for the backward pass even where no gradient will flow). A map that was disposed
 * (its batch's forward ended, or it was computed inside another module's tidy) is computed again.
 */
const computed = new WeakMap<tf.Tensor, tf.Tensor3D>();

/** temporalAttention(logmel), shared by every use of the same log-Mel tensor while the first result lives. */
export function sharedTemporalAttention(logmel: tf.Tensor3D, evaluation = false): tf.Tensor3D {
  const done = computed.get(logmel);
  if (done && !done.isDisposed) return done;
  const ta = temporalAttention(logmel, evaluation);
  computed.set(logmel, ta);
  return ta;
}

/** F_TA (§2.1.3): no weights. */
export class TAgramBranch extends BaseModule implements FeatureBranch {
  apply(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor3D {
    return sharedTemporalAttention(inputs.logmel, !ctx.training);
  }
}

export function createTAgramBranch(args: BranchArgs): FeatureBranch {
  return new TAgramBranch(args.name, args.seed);
}
