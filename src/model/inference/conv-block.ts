import * as tf from '@tensorflow/tfjs';
import { matMulBiasAct } from '../../backend/kernels/matmul-epilogue.js';
import type { FoldedConv } from './fold.js';

/**
 * One folded conv block: prelu(conv(x, w) + bias) (+ res after a linear block), NHWC, PyTorch's
 * symmetric padding. A 1 x 1 block is one product with the bias, PReLU and residual applied as
 * its tiles are stored (matMulBiasAct); 3 x 3 and depthwise convs go to tfjs's fused conv
 * kernels, which add the bias and apply the PReLU themselves.
 */
export function runFoldedConv(x: tf.Tensor4D, b: FoldedConv, res?: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, cin] = x.shape;
  const [kh, kw, , cout] = b.w.shape;
  if (!b.depthwise && kh === 1 && kw === 1 && b.stride === 1 && b.pad === 0) {
    const rows = n * h * w;
    return tf.tidy(() => {
      const y = matMulBiasAct(x.reshape([rows, cin]), b.w.reshape([cin, cout]), b.bias, b.alpha, res?.reshape([rows, cout]));
      return y.reshape([n, h, w, cout]);
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
    // tfjs types the depthwise pad as a number or a keyword, but its kernels take explicit
    // padding as the plain conv does; 'same' would pad even sizes asymmetrically (not PyTorch).
    const y = b.depthwise ? tf.fused.depthwiseConv2d({ ...args, pad: args.pad as 'valid' }) : tf.fused.conv2d(args);
    return res ? tf.add(y, res) : y;
  });
}

/** PyTorch's symmetric zero padding as tfjs explicit padding (as src/model/nn.ts). */
function torchPad(pad: number): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  return pad === 0 ? 'valid' : [[0, 0], [pad, pad], [pad, pad], [0, 0]];
}
