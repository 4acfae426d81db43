import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { f32, type WasmBackend } from './wasm-util.js';

/**
 * PReLU gradient. tfjs builds it from Greater + Select + Multiply + Sum over a full-size mask
 * (five passes and three temporaries per layer, slow on wasm: wasm-training-facts.md). On wasm
 * with one slope per channel (the PyTorch PReLU(C) of MobileFaceNet) two JS passes compute
 * dx = dy * (x > 0 ? 1 : alpha) and dalpha[c] = sum over x <= 0 of dy * x. Other backends and
 * shapes keep tfjs's formula.
 */
export const PRELU_GRAD_X = 'ExpAsdPreluGradX';
export const PRELU_GRAD_ALPHA = 'ExpAsdPreluGradAlpha';

type Args = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap };

function gradX({ inputs, backend }: Args): TensorInfo {
  const b = backend as WasmBackend;
  const { dy, x, alpha } = inputs as { dy: TensorInfo; x: TensorInfo; alpha: TensorInfo };
  const out = b.makeOutput([...x.shape], 'float32');
  const xs = f32(b, x);
  const dys = f32(b, dy);
  const al = f32(b, alpha);
  const o = f32(b, out);
  const c = al.length;
  for (let i = 0; i < xs.length; i += c) {
    for (let ch = 0; ch < c; ch++) {
      // Branch-free (x's sign is random, a branch mispredicts half the time): factor 1 or alpha.
      const a = al[ch]!;
      o[i + ch] = dys[i + ch]! * (a + (1 - a) * +(xs[i + ch]! > 0));
    }
  }
  return out;
}

function gradAlpha({ inputs, backend }: Args): TensorInfo {
  const b = backend as WasmBackend;
  const { dy, x, alpha } = inputs as { dy: TensorInfo; x: TensorInfo; alpha: TensorInfo };
  const out = b.makeOutput([...alpha.shape], 'float32');
  const xs = f32(b, x);
  const dys = f32(b, dy);
  const c = alpha.shape.reduce((p, q) => p * q, 1);
  const acc = new Float64Array(c);
  for (let i = 0; i < xs.length; i += c) {
    for (let ch = 0; ch < c; ch++) {
      const v = xs[i + ch]!;
      acc[ch]! += dys[i + ch]! * v * +(v <= 0);
    }
  }
  f32(b, out).set(acc);
  return out;
}

export const preluGradXConfig: KernelConfig = { kernelName: PRELU_GRAD_X, backendName: 'wasm', kernelFunc: gradX as unknown as KernelConfig['kernelFunc'] };
export const preluGradAlphaConfig: KernelConfig = { kernelName: PRELU_GRAD_ALPHA, backendName: 'wasm', kernelFunc: gradAlpha as unknown as KernelConfig['kernelFunc'] };

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
      return {
        x: () => tf.engine().runKernel(PRELU_GRAD_X, { dy: g, x, alpha }) as tf.Tensor,
        alpha: () => tf.engine().runKernel(PRELU_GRAD_ALPHA, { dy: g, x, alpha }) as tf.Tensor,
      };
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
