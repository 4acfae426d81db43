import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';
import { ptr, f32, run, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { f32At, f64At, withScratch } from './simd.js';
import { parallel } from './parallel.js';
import { rowGroups, sumGroups, type RowGroups } from './row-groups.js';

/**
 * Training-mode BatchNorm over every axis but the last, as one kernel with its own gradient, and
 * the same followed by a per-channel PReLU (MobileFaceNet's conv block) as another. Through
 * tf.moments + tf.batchNorm a MobileFaceNet step spent ~40 % of its time in BN's
 * Sub / Square / Mean / Multiply / Sum / Tile chains on wasm (measured). Here (csrc/exp_kernels.c)
 * the forward is two streaming SIMD passes (per-channel sums, then y = x * scale + offset, or
 * its PReLU) and the backward two more (per-channel sums, then dx = k dz + m x + c); threads split
 * rows in every pass (the sums by fixed row groups, row-groups.ts), and every pass reads its
 * operands row after row as sequential streams (the sums keep float32 block sums per channel in
 * scratch; at 512 channels a column-wise walk ran the statistics pass at half the speed). The fused
 * PReLU variant never stores the pre-activation: its backward recomputes it from x with the
 * forward's own scale and offset, so the signs agree exactly. Statistics accumulate in float64
 * (float32 within blocks of 64 rows). Outputs: y, the batch mean, the biased batch variance
 * (PyTorch normalises with it), and 1 / sqrt(var + eps).
 */
export const BN_TRAIN = 'ExpAsdBatchNormTrain';
export const BN_TRAIN_GRAD = 'ExpAsdBatchNormTrainGrad';
export const BN_PRELU_TRAIN = 'ExpAsdBatchNormPreluTrain';
export const BN_PRELU_TRAIN_GRAD = 'ExpAsdBatchNormPreluTrainGrad';

interface ChannelScratch {
  s1: number;
  s2: number;
  s3: number;
  /** float32 block sums of the row-streaming passes: 3 ceil4(c) floats per row group (csrc `col_sums_rg`). */
  t: number;
  v: readonly [number, number, number, number, number, number];
}

/**
 * Per-channel heap scratch for `fn`: float64 sums s1, s2, s3, each [groups][c] (one row of partials
 * per row group, row-groups.ts; after sumGroups the totals are the first c), the block sums t,
 * then float32 vectors v0..v5. Only the t of each thread's first group is touched.
 */
function withChannelScratch<T>(b: WasmBackend, c: number, groups: number, fn: (s: ChannelScratch) => T): T {
  const sums = 8 * c * groups;
  const blockSums = 12 * Math.ceil(c / 4) * 4 * groups;
  return withScratch(b, 3 * sums + blockSums + 24 * c, (at) => {
    const t = at + 3 * sums;
    const f = (i: number) => t + blockSums + 4 * c * i;
    return fn({ s1: at, s2: at + sums, s3: at + 2 * sums, t, v: [f(0), f(1), f(2), f(3), f(4), f(5)] });
  });
}

/** Row groups of the per-channel sums: whole 64-row summation blocks (csrc BLOCK), ~64 K values each. */
function groupsOf(rows: number, c: number): RowGroups {
  return rowGroups(rows, c, 64);
}

/** y = x * scale + offset with gamma * invstd and beta - mean * scale, as float32 (forward and backward agree). */
function scaleOffset(
  b: WasmBackend,
  gamma: TensorInfo,
  beta: TensorInfo,
  mean: Float32Array,
  inv: Float32Array,
  scale: Float32Array,
  offset: Float32Array,
): void {
  const [g, bt] = [f32(b, gamma), f32(b, beta)];
  for (let ch = 0; ch < scale.length; ch++) {
    scale[ch] = g[ch]! * inv[ch]!;
    offset[ch] = bt[ch]! - mean[ch]! * scale[ch]!;
  }
}

function forward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { x, gamma, beta, alpha } = inputs as Record<'x' | 'gamma' | 'beta' | 'alpha', TensorInfo | undefined> & {
    x: TensorInfo;
    gamma: TensorInfo;
    beta: TensorInfo;
  };
  const eps = attrs?.['eps'] as number;
  const c = x.shape[x.shape.length - 1]!;
  const rows = sizeOf(x.shape) / c;
  const y = b.makeOutput([...x.shape], 'float32');
  const [meanT, varT, invT] = [0, 1, 2].map(() => b.makeOutput([c], 'float32')) as [TensorInfo, TensorInfo, TensorInfo];
  const { grows, groups } = groupsOf(rows, c);
  withChannelScratch(b, c, groups, ({ s1, s2, t, v }) => {
    const [shiftAt, scaleAt, offsetAt] = v;
    // Sums shifted by the first row keep the variance accurate when |mean| >> std.
    f32At(b, shiftAt, c).set(f32(b, x).subarray(0, c));
    parallel(b, 'col_sums_rg', groups, [ptr(b, x), 0, rows, c, shiftAt, s1, s2, 0, t, grows]);
    sumGroups(b, s1, groups, c);
    sumGroups(b, s2, groups, c);
    const [sum1, sum2, shift] = [f64At(b, s1, c), f64At(b, s2, c), f32At(b, shiftAt, c)];
    const [mean, variance, inv] = [f32(b, meanT), f32(b, varT), f32(b, invT)];
    for (let ch = 0; ch < c; ch++) {
      const m = sum1[ch]! / rows;
      const vr = Math.max(sum2[ch]! / rows - m * m, 0);
      mean[ch] = shift[ch]! + m;
      variance[ch] = vr;
      inv[ch] = 1 / Math.sqrt(vr + eps);
    }
    scaleOffset(b, gamma, beta, mean, inv, f32At(b, scaleAt, c), f32At(b, offsetAt, c));
    if (alpha) parallel(b, 'bn_prelu_fwd', rows, [ptr(b, x), ptr(b, y), c, scaleAt, offsetAt, ptr(b, alpha)], 1, 64);
    else parallel(b, 'affine_rows', rows, [ptr(b, x), 0, ptr(b, y), c, scaleAt, 0, offsetAt], 1, 64);
  });
  return [y, meanT, varT, invT];
}

function backward({ inputs, backend }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { dy, x, gamma, beta, alpha, mean, invstd } = inputs as Record<
    'dy' | 'x' | 'gamma' | 'mean' | 'invstd',
    TensorInfo
  > &
    Record<'beta' | 'alpha', TensorInfo | undefined>;
  const c = x.shape[x.shape.length - 1]!;
  const rows = sizeOf(x.shape) / c;
  const dxT = b.makeOutput([...x.shape], 'float32');
  const dgT = b.makeOutput([c], 'float32');
  const dbT = b.makeOutput([c], 'float32');
  const daT = alpha ? b.makeOutput([c], 'float32') : null;
  const { grows, groups } = groupsOf(rows, c);
  withChannelScratch(b, c, groups, ({ s1, s2, s3, t, v }) => {
    const [kAt, mAt, c0At, scaleAt, offsetAt, kaAt] = v;
    // Sums of dz and dz * (x - mean), where dz = dy (plain BN) or dy through the PReLU.
    if (alpha && beta) {
      scaleOffset(b, gamma, beta, f32(b, mean), f32(b, invstd), f32At(b, scaleAt, c), f32At(b, offsetAt, c));
      const at = [scaleAt, offsetAt, ptr(b, alpha), ptr(b, mean), s1, s2, s3, t, grows];
      const args = [ptr(b, x), ptr(b, dy), rows, c, ...at];
      parallel(b, 'bn_prelu_sums_rg', groups, args);
      sumGroups(b, s3, groups, c);
    } else {
      parallel(b, 'col_sums_rg', groups, [ptr(b, x), ptr(b, dy), rows, c, ptr(b, mean), s1, s2, 1, t, grows]);
    }
    sumGroups(b, s1, groups, c);
    sumGroups(b, s2, groups, c);
    const [sdz, sdzx] = [f64At(b, s1, c), f64At(b, s2, c)];
    const [kk, mx, c0] = [f32At(b, kAt, c), f32At(b, mAt, c), f32At(b, c0At, c)];
    const [g, mu, inv, dg, db] = [f32(b, gamma), f32(b, mean), f32(b, invstd), f32(b, dgT), f32(b, dbT)];
    for (let ch = 0; ch < c; ch++) {
      const dbeta = sdz[ch]!;
      const dgamma = inv[ch]! * sdzx[ch]!; // sum dz * xhat
      db[ch] = dbeta;
      dg[ch] = dgamma;
      // dx = k (dz - dbeta / n - xhat dgamma / n), xhat = (x - mean) invstd
      kk[ch] = g[ch]! * inv[ch]!;
      mx[ch] = (-kk[ch]! * inv[ch]! * dgamma) / rows;
      c0[ch] = (-kk[ch]! * dbeta) / rows - mx[ch]! * mu[ch]!;
    }
    if (alpha && daT) {
      f32(b, daT).set(f64At(b, s3, c));
      // dx = dy (z > 0 ? k : k alpha) + m x + c0: the slope folded into k per channel.
      const [ka, al] = [f32At(b, kaAt, c), f32(b, alpha)];
      for (let ch = 0; ch < c; ch++) ka[ch] = kk[ch]! * al[ch]!;
      parallel(
        b,
        'bn_prelu_dx',
        rows,
        [ptr(b, dy), ptr(b, x), ptr(b, dxT), c, scaleAt, offsetAt, kaAt, kAt, mAt, c0At],
        1,
        64,
      );
    } else {
      parallel(b, 'affine_rows', rows, [ptr(b, dy), ptr(b, x), ptr(b, dxT), c, kAt, mAt, c0At], 1, 64);
    }
  });
  return daT ? [dxT, dgT, dbT, daT] : [dxT, dgT, dbT];
}

/**
 * Evaluation-mode BatchNorm with given statistics (tfjs's FusedBatchNorm, replaced: on wasm it is
 * a scalar loop, ~9 ms for a [4, 64, 157, 64] map, a third of an inference pass), optionally
 * followed by a per-channel PReLU (BN_PRELU_INFER). One SIMD pass either way.
 */
export const BN_PRELU_INFER = 'ExpAsdBatchNormPreluInfer';

function inference({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { x, mean, variance, offset, scale, alpha } = inputs as Record<'x' | 'mean' | 'variance', TensorInfo> &
    Partial<Record<'offset' | 'scale' | 'alpha', TensorInfo>>;
  const eps = (attrs?.['varianceEpsilon'] ?? attrs?.['eps']) as number;
  const c = x.shape[x.shape.length - 1]!;
  const perChannel = (t: TensorInfo | undefined) => t === undefined || sizeOf(t.shape) === c;
  if (x.dtype !== 'float32' || ![mean, variance, offset, scale, alpha].every(perChannel)) {
    if (alpha) throw new Error(`${BN_PRELU_INFER}: statistics and slopes must have one value per channel`);
    return [run(b, 'FusedBatchNorm', inputs, attrs)];
  }
  const rows = sizeOf(x.shape) / c;
  const y = b.makeOutput([...x.shape], 'float32');
  withScratch(b, 8 * c, (at) => {
    const [k, off] = [f32At(b, at, c), f32At(b, at + 4 * c, c)];
    const [mu, vr] = [f32(b, mean), f32(b, variance)];
    const g = scale ? f32(b, scale) : null;
    const bt = offset ? f32(b, offset) : null;
    for (let ch = 0; ch < c; ch++) {
      k[ch] = (g ? g[ch]! : 1) / Math.sqrt(vr[ch]! + eps);
      off[ch] = (bt ? bt[ch]! : 0) - mu[ch]! * k[ch]!;
    }
    if (alpha) parallel(b, 'bn_prelu_fwd', rows, [ptr(b, x), ptr(b, y), c, at, at + 4 * c, ptr(b, alpha)], 1, 64);
    else parallel(b, 'affine_rows', rows, [ptr(b, x), 0, ptr(b, y), c, at, 0, at + 4 * c], 1, 64);
  });
  return [y];
}

export const bnTrainConfig = wasmKernel(BN_TRAIN, forward);
export const bnTrainGradConfig = wasmKernel(BN_TRAIN_GRAD, backward);
export const bnPreluTrainConfig = wasmKernel(BN_PRELU_TRAIN, forward);
export const bnPreluTrainGradConfig = wasmKernel(BN_PRELU_TRAIN_GRAD, backward);
export const bnPreluInferConfig = wasmKernel(BN_PRELU_INFER, inference);
export const fusedBatchNormConfig = wasmKernel('FusedBatchNorm', (a) => inference(a)[0]!);

// Only y carries a gradient: mean and variance feed the running statistics, not the loss.
export const bnTrainGradient: GradConfig = {
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, false, true],
  gradFunc: (dys, saved) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, gamma, mean, invstd] = saved as tf.Tensor[];
    const [dx, dgamma, dbeta] = tf
      .engine()
      .runKernel(BN_TRAIN_GRAD, { dy, x: x!, gamma: gamma!, mean: mean!, invstd: invstd! }) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

export const bnPreluTrainGradient: GradConfig = {
  kernelName: BN_PRELU_TRAIN,
  inputsToSave: ['x', 'gamma', 'beta', 'alpha'],
  outputsToSave: [false, true, false, true],
  gradFunc: (dys, saved) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, gamma, beta, alpha, mean, invstd] = saved as tf.Tensor[];
    const [dx, dgamma, dbeta, dalpha] = tf.engine().runKernel(BN_PRELU_TRAIN_GRAD, {
      dy,
      x: x!,
      gamma: gamma!,
      beta: beta!,
      alpha: alpha!,
      mean: mean!,
      invstd: invstd!,
    }) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta!, alpha: () => dalpha! };
  },
};

/** True when the fused kernels can run: wasm backend, float32 input. */
export function fusedBatchNormAvailable(x: tf.Tensor): boolean {
  return x.dtype === 'float32' && tf.getBackend() === 'wasm' && tf.getKernel(BN_TRAIN, 'wasm') !== undefined;
}

export interface BatchNormTrainResult<T extends tf.Tensor> {
  y: T;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Training-mode BatchNorm (channels last): y, batch mean and biased batch variance. */
export function batchNormTrain<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
): BatchNormTrainResult<T> {
  const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x, gamma, beta }, { eps }) as tf.Tensor[];
  return { y: y as T, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** Training-mode BatchNorm then PReLU with one slope per channel, fused; statistics as batchNormTrain. */
export function batchNormPreluTrain<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  alpha: tf.Tensor,
  eps: number,
): BatchNormTrainResult<T> {
  const [y, mean, variance] = tf.engine().runKernel(BN_PRELU_TRAIN, { x, gamma, beta, alpha }, { eps }) as tf.Tensor[];
  return { y: y as T, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** Evaluation-mode BatchNorm with the running statistics, then PReLU, fused (no gradient). */
export function batchNormPreluInfer<T extends tf.Tensor>(
  x: T,
  mean: tf.Tensor,
  variance: tf.Tensor,
  beta: tf.Tensor,
  gamma: tf.Tensor,
  alpha: tf.Tensor,
  eps: number,
): T {
  const [y] = tf
    .engine()
    .runKernel(BN_PRELU_INFER, { x, mean, variance, offset: beta, scale: gamma, alpha }, { eps }) as tf.Tensor[];
  return y as T;
}
