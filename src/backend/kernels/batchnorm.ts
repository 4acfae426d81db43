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

/**
 * The layout the kernels see: `rows` rows of `w` values. Normally w = c. With one or two channels
 * (SpecNet's BatchNorm2d(1) on a spectrogram) and a multiple of 64, 16 or 4 values, rows of that
 * many lanes instead (lane l holds channel l % c), so the passes run as SIMD over whole rows
 * rather than as scalar loops of one value per row; per-channel vectors are repeated across the
 * lanes, and each channel's sum is its lanes' float64 sums added in lane order.
 */
interface Lanes {
  w: number;
  rows: number;
}

function lanesOf(c: number, size: number): Lanes {
  const w = c <= 2 ? [64, 16, 4].find((n) => size % n === 0) : undefined;
  return w ? { w, rows: size / w } : { w: c, rows: size / c };
}

interface ChannelScratch {
  s1: number;
  s2: number;
  s3: number;
  /**
   * float32 block sums of the row-streaming passes: 7 ceil4(w) floats per row group (`col_sums_rg` uses 3,
   * `bn_prelu_sums_rg` 4 for its interleaved per-channel operands, then 3).
   */
  t: number;
  /** float32 vectors of w values. */
  v: readonly number[];
  /** float32 per-channel operands interleaved for `bn_prelu_dx`: 24 floats per block of 4 lanes (`interleave`). */
  p: number;
}

/** Float32 vectors in ChannelScratch.v. */
const VECTORS = 8;

/**
 * Per-lane heap scratch for `fn`: float64 sums s1, s2, s3, each [groups][w] (one row of partials
 * per row group, row-groups.ts; after sumGroups the totals are the first w), the block sums t,
 * then float32 vectors v. Only the t of each thread's first group is touched. Only the first
 * `zeroed` of s1, s2, s3 are zeroed: the kernels add into those partials, while they clear the
 * block sums t themselves and every vector in v is written before it is read.
 */
function withChannelScratch<T>(
  b: WasmBackend,
  w: number,
  groups: number,
  zeroed: 2 | 3,
  fn: (s: ChannelScratch) => T,
): T {
  const sums = 8 * w * groups;
  const blockSums = 28 * Math.ceil(w / 4) * 4 * groups;
  const bytes = 3 * sums + blockSums + 4 * w * VECTORS + 96 * Math.ceil(w / 4);
  return withScratch(
    b,
    bytes,
    (at) => {
      const t = at + 3 * sums;
      const v: number[] = [];
      for (let i = 0; i < VECTORS; i++) v.push(t + blockSums + 4 * w * i);
      return fn({ s1: at, s2: at + sums, s3: at + 2 * sums, t, v, p: t + blockSums + 4 * w * VECTORS });
    },
    zeroed * sums,
  );
}

/** Row groups of the per-channel sums: whole 64-row summation blocks (csrc BLOCK), ~64 K values each. */
function groupsOf({ rows, w }: Lanes): RowGroups {
  return rowGroups(rows, w, 64);
}

/** The c channel totals of float64 lane sums [w] at `at` (lanes added in order; a copy when w = c). */
function channelSums(b: WasmBackend, at: number, w: number, c: number): Float64Array {
  const lanes = f64At(b, at, w);
  const out = new Float64Array(c);
  // 0 + s, as the lane loop adds into zeros (a -0 sum becomes +0 either way).
  if (w === c) for (let l = 0; l < w; l++) out[l] = 0 + lanes[l]!;
  else for (let l = 0; l < w; l++) out[l % c]! += lanes[l]!;
  return out;
}

/** Writes per-channel values across the w lanes at `at` (the values themselves when w = c); returns at. */
function spread(b: WasmBackend, at: number, w: number, values: ArrayLike<number>): number {
  const lanes = f32At(b, at, w);
  if (values.length === w && values instanceof Float32Array) lanes.set(values);
  else for (let l = 0; l < w; l++) lanes[l] = values[l % values.length]!;
  return at;
}

/**
 * Lane vectors of w values at `ats`, interleaved at `at` as csrc `bn_prelu_dx` reads them: per block of four
 * lanes, four values of each vector in turn (the last block padded with zeros); returns at.
 */
function interleave(b: WasmBackend, at: number, w: number, ats: readonly number[]): number {
  const blocks = Math.ceil(w / 4);
  const out = f32At(b, at, blocks * 4 * ats.length);
  out.fill(0);
  ats.forEach((src, j) => {
    const vals = f32At(b, src, w);
    for (let l = 0; l < w; l++) out[(l >> 2) * 4 * ats.length + j * 4 + (l & 3)] = vals[l]!;
  });
  return at;
}

/** A per-channel tensor as the kernels read it: in place when w = c, else spread across the lanes at `at`. */
function laneVector(b: WasmBackend, t: TensorInfo, at: number, w: number, c: number): number {
  return w === c ? ptr(b, t) : spread(b, at, w, f32(b, t));
}

/** y = x * scale + offset with gamma * invstd and beta - mean * scale, as float32 (forward and backward agree). */
function scaleOffset(
  b: WasmBackend,
  gamma: TensorInfo,
  beta: TensorInfo,
  mean: Float32Array,
  inv: Float32Array,
): { scale: Float32Array; offset: Float32Array } {
  const [g, bt] = [f32(b, gamma), f32(b, beta)];
  const scale = new Float32Array(mean.length);
  const offset = new Float32Array(mean.length);
  for (let ch = 0; ch < scale.length; ch++) {
    scale[ch] = g[ch]! * inv[ch]!;
    offset[ch] = bt[ch]! - mean[ch]! * scale[ch]!;
  }
  return { scale, offset };
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
  const lanes = lanesOf(c, sizeOf(x.shape));
  const { w } = lanes;
  const y = b.makeOutput([...x.shape], 'float32');
  const [meanT, varT, invT] = [0, 1, 2].map(() => b.makeOutput([c], 'float32')) as [TensorInfo, TensorInfo, TensorInfo];
  const { grows, groups } = groupsOf(lanes);
  withChannelScratch(b, w, groups, 2, ({ s1, s2, t, v }) => {
    // Sums shifted by the first row keep the variance accurate when |mean| >> std.
    const shift = f32(b, x).slice(0, c);
    const shiftAt = spread(b, v[0]!, w, shift);
    parallel(b, 'col_sums_rg', groups, [ptr(b, x), 0, lanes.rows, w, shiftAt, s1, s2, 0, t, grows]);
    sumGroups(b, s1, groups, w);
    sumGroups(b, s2, groups, w);
    const [sum1, sum2] = [channelSums(b, s1, w, c), channelSums(b, s2, w, c)];
    const [mean, variance, inv] = [f32(b, meanT), f32(b, varT), f32(b, invT)];
    for (let ch = 0; ch < c; ch++) {
      const m = sum1[ch]! / rows;
      const vr = Math.max(sum2[ch]! / rows - m * m, 0);
      mean[ch] = shift[ch]! + m;
      variance[ch] = vr;
      inv[ch] = 1 / Math.sqrt(vr + eps);
    }
    const { scale, offset } = scaleOffset(b, gamma, beta, mean, inv);
    const [scaleAt, offsetAt] = [spread(b, v[1]!, w, scale), spread(b, v[2]!, w, offset)];
    const [px, py] = [ptr(b, x), ptr(b, y)];
    if (alpha) {
      const alphaAt = laneVector(b, alpha, v[3]!, w, c);
      parallel(b, 'bn_prelu_fwd', lanes.rows, [px, py, w, scaleAt, offsetAt, alphaAt], 1, 64);
    } else {
      parallel(b, 'affine_rows', lanes.rows, [px, 0, py, w, scaleAt, 0, offsetAt], 1, 64);
    }
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
  const lanes = lanesOf(c, sizeOf(x.shape));
  const { w } = lanes;
  const dxT = b.makeOutput([...x.shape], 'float32');
  const dgT = b.makeOutput([c], 'float32');
  const dbT = b.makeOutput([c], 'float32');
  const daT = alpha ? b.makeOutput([c], 'float32') : null;
  const { grows, groups } = groupsOf(lanes);
  withChannelScratch(b, w, groups, alpha && beta ? 3 : 2, ({ s1, s2, s3, t, v, p }) => {
    const [g, mu, inv] = [f32(b, gamma), f32(b, mean), f32(b, invstd)];
    const meanAt = laneVector(b, mean, v[0]!, w, c);
    const [px, pdy, pdx] = [ptr(b, x), ptr(b, dy), ptr(b, dxT)];
    // Sums of dz and dz * (x - mean), where dz = dy (plain BN) or dy through the PReLU.
    let prelu: { scaleAt: number; offsetAt: number; al: Float32Array } | null = null;
    if (alpha && beta) {
      const { scale, offset } = scaleOffset(b, gamma, beta, mu, inv);
      const [scaleAt, offsetAt] = [spread(b, v[1]!, w, scale), spread(b, v[2]!, w, offset)];
      const al = f32(b, alpha).slice();
      const alphaAt = laneVector(b, alpha, v[3]!, w, c);
      const args = [px, pdy, lanes.rows, w, scaleAt, offsetAt, alphaAt, meanAt, s1, s2, s3, t, grows];
      parallel(b, 'bn_prelu_sums_rg', groups, args);
      sumGroups(b, s3, groups, w);
      prelu = { scaleAt, offsetAt, al };
    } else {
      parallel(b, 'col_sums_rg', groups, [px, pdy, lanes.rows, w, meanAt, s1, s2, 1, t, grows]);
    }
    sumGroups(b, s1, groups, w);
    sumGroups(b, s2, groups, w);
    const [sdz, sdzx] = [channelSums(b, s1, w, c), channelSums(b, s2, w, c)];
    const [kk, mx, c0] = [new Float32Array(c), new Float32Array(c), new Float32Array(c)];
    const [dg, db] = [f32(b, dgT), f32(b, dbT)];
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
    const [kAt, mAt, c0At] = [spread(b, v[4]!, w, kk), spread(b, v[5]!, w, mx), spread(b, v[6]!, w, c0)];
    if (prelu && daT) {
      f32(b, daT).set(channelSums(b, s3, w, c));
      // dx = dy (z > 0 ? k : k alpha) + m x + c0: the slope folded into k per channel.
      const ka = new Float32Array(c);
      for (let ch = 0; ch < c; ch++) ka[ch] = kk[ch]! * prelu.al[ch]!;
      const kaAt = spread(b, v[7]!, w, ka);
      const packed = interleave(b, p, w, [prelu.scaleAt, prelu.offsetAt, kAt, kaAt, mAt, c0At]);
      parallel(b, 'bn_prelu_dx', lanes.rows, [pdy, px, pdx, w, packed], 1, 64);
    } else {
      parallel(b, 'affine_rows', lanes.rows, [pdy, px, pdx, w, kAt, mAt, c0At], 1, 64);
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
