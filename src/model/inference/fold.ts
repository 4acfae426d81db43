import * as tf from '@tensorflow/tfjs';
import { BN_EPS, type BatchNormParams } from '../nn.js';

/** A conv block with its evaluation-mode BatchNorm folded in: y = prelu(conv(x, w) + bias). */
export interface FoldedConv {
  /** [kh, kw, Cin, Cout], or [kh, kw, C, 1] for a depthwise conv. */
  w: tf.Tensor4D;
  bias: tf.Tensor1D;
  /** PReLU slopes [Cout]; absent for a linear block. */
  alpha?: tf.Tensor1D;
  depthwise: boolean;
  stride: number;
  pad: number;
}

/**
 * BatchNorm with running statistics after a bias-free conv is an affine map per output channel:
 * gamma (conv(x, w) - mean) / sqrt(var + eps) + beta = conv(x, w s) + (beta - mean s) with
 * s = gamma / sqrt(var + eps). So the folded kernel is w scaled per output channel (the last axis
 * of a conv kernel, the channel axis of a depthwise one) and the bias is beta - mean s.
 * Exact up to float32 rounding of the products.
 */
export function foldBatchNorm(
  w: tf.Tensor4D,
  bn: BatchNormParams,
  depthwise: boolean,
  eps = BN_EPS,
): { w: tf.Tensor4D; bias: tf.Tensor1D } {
  return tf.tidy(() => {
    const s = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.runningVar, eps))) as tf.Tensor1D;
    const scaled = depthwise ? tf.mul(w, s.reshape([1, 1, -1, 1])) : tf.mul(w, s);
    return { w: scaled as tf.Tensor4D, bias: tf.sub(bn.beta, tf.mul(bn.runningMean, s)) as tf.Tensor1D };
  });
}

export function disposeFolded(b: FoldedConv): void {
  tf.dispose([b.w, b.bias]);
}
