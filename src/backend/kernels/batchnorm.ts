import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { f32, sizeOf, type WasmBackend } from './wasm-util.js';
import { f32At, f64At, ptr, withScratch } from './simd.js';
import { parallel } from './parallel.js';

/**
 * Training-mode BatchNorm over every axis but the last, as one kernel with its own gradient.
 * Through tf.moments + tf.batchNorm a MobileFaceNet step spent ~40 % of its time in BN's
 * Sub / Square / Mean / Multiply / Sum / Tile chains on wasm (measured); here the forward is two
 * streaming SIMD passes (csrc/exp_kernels.c: per-channel sums, then y = x * scale + shift) and
 * the backward two more (per-channel sums of dy and dy * (x - mean), then dx = k dy + m x + c).
 * Statistics accumulate in float64 (float32 within blocks of 64 rows). Outputs: y, the batch mean, the biased batch variance (PyTorch normalises with it),
 * and 1 / sqrt(var + eps).
 */
export const BN_TRAIN = 'ExpAsdBatchNormTrain';
export const BN_TRAIN_GRAD = 'ExpAsdBatchNormTrainGrad';

type Args = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap };

function forward({ inputs, backend, attrs }: Args): TensorInfo[] {
  const b = backend as WasmBackend;
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const eps = attrs?.['eps'] as number;
  const c = x.shape[x.shape.length - 1]!;
  const rows = sizeOf(x.shape) / c;
  const y = b.makeOutput([...x.shape], 'float32');
  const meanT = b.makeOutput([c], 'float32');
  const varT = b.makeOutput([c], 'float32');
  const invT = b.makeOutput([c], 'float32');
  // Scratch: float64 sums s1, s2, then float32 shift, scale, offset.
  withScratch(b, c * 28, (at) => {
    const [s1At, s2At, shiftAt, scaleAt, offsetAt] = [at, at + 8 * c, at + 16 * c, at + 20 * c, at + 24 * c];
    // Sums shifted by the first row keep the variance accurate when |mean| >> std.
    f32At(b, shiftAt, c).set(f32(b, x).subarray(0, c));
    parallel(b, 'col_sums', c, [ptr(b, x), 0, rows, c, shiftAt, s1At, s2At, 0], 4);
    const [s1, s2] = [f64At(b, s1At, c), f64At(b, s2At, c)];
    const [shift, scale, offset] = [f32At(b, shiftAt, c), f32At(b, scaleAt, c), f32At(b, offsetAt, c)];
    const [g, bt, mean, variance, inv] = [f32(b, gamma), f32(b, beta), f32(b, meanT), f32(b, varT), f32(b, invT)];
    for (let ch = 0; ch < c; ch++) {
      const m = s1[ch]! / rows;
      const v = Math.max(s2[ch]! / rows - m * m, 0);
      mean[ch] = shift[ch]! + m;
      variance[ch] = v;
      inv[ch] = 1 / Math.sqrt(v + eps);
      scale[ch] = g[ch]! * inv[ch]!;
      offset[ch] = bt[ch]! - mean[ch]! * scale[ch]!;
    }
    parallel(b, 'affine_rows', rows, [ptr(b, x), 0, ptr(b, y), c, scaleAt, 0, offsetAt], 1, 64);
  });
  return [y, meanT, varT, invT];
}

function backward({ inputs, backend }: Args): TensorInfo[] {
  const b = backend as WasmBackend;
  const { dy, x, gamma, mean, invstd } = inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'invstd', TensorInfo>;
  const c = x.shape[x.shape.length - 1]!;
  const rows = sizeOf(x.shape) / c;
  const dxT = b.makeOutput([...x.shape], 'float32');
  const dgT = b.makeOutput([c], 'float32');
  const dbT = b.makeOutput([c], 'float32');
  // Scratch: float64 sums of dy and dy * (x - mean), then float32 factors of dx = k dy + m x + c0.
  withScratch(b, c * 28, (at) => {
    const [sdyAt, sdyxAt, kAt, mAt, c0At] = [at, at + 8 * c, at + 16 * c, at + 20 * c, at + 24 * c];
    parallel(b, 'col_sums', c, [ptr(b, x), ptr(b, dy), rows, c, ptr(b, mean), sdyAt, sdyxAt, 1], 4);
    const [sdy, sdyx] = [f64At(b, sdyAt, c), f64At(b, sdyxAt, c)];
    const [kk, mx, c0] = [f32At(b, kAt, c), f32At(b, mAt, c), f32At(b, c0At, c)];
    const [g, mu, inv, dg, db] = [f32(b, gamma), f32(b, mean), f32(b, invstd), f32(b, dgT), f32(b, dbT)];
    for (let ch = 0; ch < c; ch++) {
      const dbeta = sdy[ch]!;
      const dgamma = inv[ch]! * sdyx[ch]!; // sum dy * xhat
      db[ch] = dbeta;
      dg[ch] = dgamma;
      // dx = k (dy - dbeta / n - xhat dgamma / n), xhat = (x - mean) invstd
      kk[ch] = g[ch]! * inv[ch]!;
      mx[ch] = (-kk[ch]! * inv[ch]! * dgamma) / rows;
      c0[ch] = (-kk[ch]! * dbeta) / rows - mx[ch]! * mu[ch]!;
    }
    parallel(b, 'affine_rows', rows, [ptr(b, dy), ptr(b, x), ptr(b, dxT), c, kAt, mAt, c0At], 1, 64);
  });
  return [dxT, dgT, dbT];
}

export const bnTrainConfig: KernelConfig = { kernelName: BN_TRAIN, backendName: 'wasm', kernelFunc: forward as unknown as KernelConfig['kernelFunc'] };
export const bnTrainGradConfig: KernelConfig = { kernelName: BN_TRAIN_GRAD, backendName: 'wasm', kernelFunc: backward as unknown as KernelConfig['kernelFunc'] };

export const bnTrainGradient: GradConfig = {
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, false, true],
  gradFunc: (dys, saved) => {
    // Only y carries a gradient: mean and variance feed the running statistics, not the loss.
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, gamma, mean, invstd] = saved as tf.Tensor[];
    const [dx, dgamma, dbeta] = tf.engine().runKernel(BN_TRAIN_GRAD, { dy, x: x!, gamma: gamma!, mean: mean!, invstd: invstd! }) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

/** True when the fused kernel can run: wasm backend, float32 input. */
export function fusedBatchNormAvailable(x: tf.Tensor): boolean {
  return x.dtype === 'float32' && tf.getBackend() === 'wasm' && tf.getKernel(BN_TRAIN, 'wasm') !== undefined;
}

/** Training-mode BatchNorm (channels last): y, batch mean and biased batch variance. */
export function batchNormTrain<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps: number): { y: T; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x, gamma, beta }, { eps }) as tf.Tensor[];
  return { y: y as T, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
