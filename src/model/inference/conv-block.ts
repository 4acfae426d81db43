import * as tf from '@tensorflow/tfjs';
import { matMulBiasAct } from '../../backend/kernels/matmul-epilogue.js';
import { depthwiseBiasAct } from '../../backend/kernels/depthwise-fwd.js';
import type { FoldedConv } from './fold.js';
import { torchPad } from '../nn.js';

/**
 * One folded conv block: prelu(conv(x, w) + bias) (+ res after a linear block), NHWC, PyTorch's
 * symmetric padding. A 1 x 1 block is one product with the bias, PReLU and residual applied as
 * its tiles are stored (matMulBiasAct), a depthwise block one pass of depthwiseBiasAct; the 3 x 3
 * stem conv goes to tfjs's fused conv, which adds the bias and applies the PReLU itself.
 */
export function runFoldedConv(x: tf.Tensor4D, b: FoldedConv, res?: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, cin] = x.shape;
  const [kh, kw, , cout] = b.w.shape;
  if (!b.depthwise && kh === 1 && kw === 1 && b.stride === 1 && b.pad === 0) {
    const rows = n * h * w;
    return tf.tidy(() => {
      const y = matMulBiasAct(
        x.reshape([rows, cin]),
        b.w.reshape([cin, cout]),
        b.bias,
        b.alpha,
        res?.reshape([rows, cout]),
      );
      return y.reshape([n, h, w, cout]);
    });
  }
  if (b.depthwise) {
    return tf.tidy(() => {
      const y = depthwiseBiasAct(x, b.w, b.bias, b.stride, b.pad, b.alpha);
      return res ? tf.add(y, res) : y;
    });
  }
  const args = {
    x,
    filter: b.w,
    strides: b.stride,
    pad: torchPad(b.pad),
    bias: b.bias,
    activation: b.alpha ? ('prelu' as const) : ('linear' as const),
    ...(b.alpha ? { preluActivationWeights: b.alpha } : {}),
  };
  return tf.tidy(() => {
    const y = tf.fused.conv2d(args);
    return res ? tf.add(y, res) : y;
  });
}
