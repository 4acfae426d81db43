import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';
import { ptr, run, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { parallel } from './parallel.js';

/**
 * Tanh and LeakyRelu with their gradients as single SIMD passes (csrc/exp_kernels.c `act_map`).
 * tfjs-backend-wasm runs both forwards as scalar loops (Tanh: ~3 ms per SpecNet spectrum of
 * [4, 128, 313] on one thread, measured) and builds their gradients from three ops each
 * (Square, Sub, Multiply; Greater, Multiply, Select). Other dtypes and backends keep tfjs's.
 */
export const TANH_GRAD = 'ExpAsdTanhGrad';
export const LEAKY_RELU_GRAD = 'ExpAsdLeakyReluGrad';

const MODE = { tanh: 0, tanhGrad: 1, leaky: 2, leakyGrad: 3 } as const;

/** The bits of a float32 as an int32 (the kernel's helper threads take int32 arguments). */
function floatBits(v: number): number {
  return new Int32Array(new Float32Array([v]).buffer)[0]!;
}

function map(b: WasmBackend, mode: number, a: TensorInfo, other: TensorInfo | null, alpha = 0): TensorInfo {
  const out = b.makeOutput([...a.shape], 'float32');
  const n = sizeOf(a.shape);
  const args = [mode, ptr(b, a), other ? ptr(b, other) : 0, ptr(b, out), floatBits(alpha)];
  parallel(b, 'act_map', n, args, 4, 16384);
  return out;
}

const allFloat = (...ts: TensorInfo[]) => ts.every((t) => t.dtype === 'float32');

function tanh({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  if (!allFloat(x)) return run(backend as WasmBackend, 'Tanh', inputs, attrs);
  return map(backend as WasmBackend, MODE.tanh, x, null);
}

function leakyRelu({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  if (!allFloat(x)) return run(backend as WasmBackend, 'LeakyRelu', inputs, attrs);
  return map(backend as WasmBackend, MODE.leaky, x, null, attrs?.['alpha'] as number);
}

function tanhGrad({ inputs, backend }: KernelArgs): TensorInfo {
  const { dy, y } = inputs as { dy: TensorInfo; y: TensorInfo };
  return map(backend as WasmBackend, MODE.tanhGrad, dy, y);
}

function leakyReluGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  return map(backend as WasmBackend, MODE.leakyGrad, dy, x, attrs?.['alpha'] as number);
}

export const tanhConfig = wasmKernel('Tanh', tanh);
export const leakyReluConfig = wasmKernel('LeakyRelu', leakyRelu);
export const tanhGradKernelConfig = wasmKernel(TANH_GRAD, tanhGrad);
export const leakyReluGradKernelConfig = wasmKernel(LEAKY_RELU_GRAD, leakyReluGrad);

const fused = (...ts: tf.Tensor[]) =>
  tf.getBackend() === 'wasm' && ts.every((t) => t.dtype === 'float32' && t.shape.length === ts[0]!.shape.length);

/** d tanh = dy (1 - y^2) (tfjs-core gradients/Tanh_grad), one kernel on wasm. */
export const tanhGradConfig: GradConfig = {
  kernelName: 'Tanh',
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved as [tf.Tensor];
    const g = dy as tf.Tensor;
    if (fused(g, y)) return { x: () => tf.engine().runKernel(TANH_GRAD, { dy: g, y }) as tf.Tensor };
    return { x: () => tf.mul(g, tf.sub(tf.scalar(1), tf.square(tf.cast(y, 'float32')))) };
  },
};

/** d leakyRelu = dy where x > 0, else alpha dy (tfjs-core gradients/LeakyRelu_grad), one kernel on wasm. */
export const leakyReluGradConfig: GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const g = dy as tf.Tensor;
    const alpha = (attrs as { alpha: number }).alpha;
    if (fused(g, x)) return { x: () => tf.engine().runKernel(LEAKY_RELU_GRAD, { dy: g, x }, { alpha }) as tf.Tensor };
    return { x: () => tf.where(tf.greater(x, 0), g, tf.mul(g, alpha)) };
  },
};
