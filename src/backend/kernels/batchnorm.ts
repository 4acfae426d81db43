import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { f32, type WasmBackend } from './wasm-util.js';

/**
 * Training-mode BatchNorm over every axis but the last, as one kernel with its own gradient.
 * Through tf.moments + tf.batchNorm a MobileFaceNet step spent ~40 % of its time in BN's
 * Sub / Square / Mean / Multiply / Sum / Tile chains on wasm (measured); here the forward is two
 * streaming passes (per-channel sums, then y = x * scale + shift) and the backward two more
 * (per-channel sums of dy and dy * x, then dx = k dy + m x + c). Statistics accumulate in
 * float64. Outputs: y, the batch mean, the biased batch variance (PyTorch normalises with it),
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
  const y = b.makeOutput([...x.shape], 'float32');
  const meanT = b.makeOutput([c], 'float32');
  const varT = b.makeOutput([c], 'float32');
  const invT = b.makeOutput([c], 'float32');
  const xs = f32(b, x);
  const n = xs.length / c;
  // Sums shifted by the first row keep the variance accurate when |mean| >> std.
  const shift = Float64Array.from(xs.subarray(0, c));
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let i = 0; i < xs.length; i += c) {
    for (let ch = 0; ch < c; ch++) {
      const d = xs[i + ch]! - shift[ch]!;
      s1[ch]! += d;
      s2[ch]! += d * d;
    }
  }
  const g = f32(b, gamma);
  const bt = f32(b, beta);
  const mean = f32(b, meanT);
  const variance = f32(b, varT);
  const inv = f32(b, invT);
  const scale = new Float32Array(c);
  const offset = new Float32Array(c);
  for (let ch = 0; ch < c; ch++) {
    const m = s1[ch]! / n;
    const v = Math.max(s2[ch]! / n - m * m, 0);
    mean[ch] = shift[ch]! + m;
    variance[ch] = v;
    inv[ch] = 1 / Math.sqrt(v + eps);
    scale[ch] = g[ch]! * inv[ch]!;
    offset[ch] = bt[ch]! - mean[ch]! * scale[ch]!;
  }
  const ys = f32(b, y);
  for (let i = 0; i < xs.length; i += c) {
    for (let ch = 0; ch < c; ch++) ys[i + ch] = xs[i + ch]! * scale[ch]! + offset[ch]!;
  }
  return [y, meanT, varT, invT];
}

function backward({ inputs, backend }: Args): TensorInfo[] {
  const b = backend as WasmBackend;
  const { dy, x, gamma, mean, invstd } = inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'invstd', TensorInfo>;
  const c = x.shape[x.shape.length - 1]!;
  const dxT = b.makeOutput([...x.shape], 'float32');
  const dgT = b.makeOutput([c], 'float32');
  const dbT = b.makeOutput([c], 'float32');
  const xs = f32(b, x);
  const dys = f32(b, dy);
  const n = xs.length / c;
  const sdy = new Float64Array(c);
  const sdyx = new Float64Array(c);
  for (let i = 0; i < xs.length; i += c) {
    for (let ch = 0; ch < c; ch++) {
      const d = dys[i + ch]!;
      sdy[ch]! += d;
      sdyx[ch]! += d * xs[i + ch]!;
    }
  }
  const g = f32(b, gamma);
  const mu = f32(b, mean);
  const inv = f32(b, invstd);
  const dg = f32(b, dgT);
  const db = f32(b, dbT);
  const k = new Float32Array(c);
  const mx = new Float32Array(c);
  const c0 = new Float32Array(c);
  for (let ch = 0; ch < c; ch++) {
    const dbeta = sdy[ch]!;
    const dgamma = inv[ch]! * (sdyx[ch]! - mu[ch]! * dbeta); // sum dy * xhat
    db[ch] = dbeta;
    dg[ch] = dgamma;
    // dx = k (dy - dbeta / n - xhat dgamma / n), xhat = (x - mean) invstd
    const kk = g[ch]! * inv[ch]!;
    k[ch] = kk;
    mx[ch] = (-kk * inv[ch]! * dgamma) / n;
    c0[ch] = (-kk * dbeta) / n - mx[ch]! * mu[ch]!;
  }
  const dx = f32(b, dxT);
  for (let i = 0; i < xs.length; i += c) {
    for (let ch = 0; ch < c; ch++) dx[i + ch] = k[ch]! * dys[i + ch]! + mx[ch]! * xs[i + ch]! + c0[ch]!;
  }
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
