import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';
import { ptr, f32, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { f64At, withScratch } from './simd.js';
import { parallel } from './parallel.js';

/**
 * PReLU gradient. tfjs builds it from Greater + Select + Multiply + Sum over a full-size mask
 * (five passes and three temporaries per layer, slow on wasm: measured, docs/backend.md). On wasm
 * with one slope per channel (the PyTorch PReLU(C) of MobileFaceNet) one SIMD pass
 * (csrc/exp_kernels.c `prelu_grad`) computes both dx = dy * (x > 0 ? 1 : alpha) and
 * dalpha[c] = sum over x <= 0 of dy * x (float64 sums). Other backends and shapes keep tfjs's
 * formula.
 */
export const PRELU_GRAD = 'ExpAsdPreluGrad';

function grad({ inputs, backend }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { dy, x, alpha } = inputs as { dy: TensorInfo; x: TensorInfo; alpha: TensorInfo };
  const c = sizeOf(alpha.shape);
  const rows = sizeOf(x.shape) / c;
  const dx = b.makeOutput([...x.shape], 'float32');
  const dalpha = b.makeOutput([...alpha.shape], 'float32');
  withScratch(b, 8 * c, (acc) => {
    parallel(b, 'prelu_grad', c, [ptr(b, dy), ptr(b, x), ptr(b, alpha), ptr(b, dx), acc, rows, c], 4);
    f32(b, dalpha).set(f64At(b, acc, c));
  });
  return [dx, dalpha];
}

export const preluGradKernelConfig = wasmKernel(PRELU_GRAD, grad);

/** True when alpha is one slope per channel of x's last axis. */
function perChannel(x: tf.Tensor, alpha: tf.Tensor): boolean {
  return x.dtype === 'float32' && alpha.rank === 1 && alpha.shape[0] === x.shape[x.rank - 1];
}

export const preluGradConfig: GradConfig = {
  kernelName: 'Prelu',
  inputsToSave: ['x', 'alpha'],
  gradFunc: (dy, saved) => {
    const [x, alpha] = saved as [tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    if (tf.getBackend() === 'wasm' && perChannel(x, alpha)) {
      const [dx, dalpha] = tf.engine().runKernel(PRELU_GRAD, { dy: g, x, alpha }) as tf.Tensor[];
      return { x: () => dx!, alpha: () => dalpha! };
    }
    // tfjs's own formula (tfjs-core gradients/Prelu_grad).
    const mask = tf.greater(x, 0);
    return {
      x: () => tf.where(mask, g, tf.mul(g, alpha)),
      alpha: () => {
        let res = tf.where(mask, tf.zerosLike(g), tf.mul(g, x));
        const axes = tf.backend_util.getReductionAxes(alpha.shape, g.shape);
        if (axes.length > 0) res = tf.sum(res, axes);
        return tf.reshape(res, alpha.shape);
      },
    };
  },
};
