import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';
import { f32, ptr, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { f32At, f64At, withScratch } from './simd.js';
import { parallel } from './parallel.js';

/**
 * LayerNorm over one axis with one affine weight per position along that axis, optionally followed
 * by LeakyReLU, as one kernel with its own gradient (csrc/exp_kernels.c `ln_fwd`, `ln_bwd_sums`,
 * `ln_bwd_dx`). Tgram's three LayerNorms (each channel normalised over the T frames of a
 * [B, T, M] map) ran as tf.moments + 5 element-wise ops forward and ~25 ops backward, two of them
 * Sums over non-adjacent axes that tfjs-backend-wasm transposes first. Here: per-(item, channel)
 * statistics in one pass of column sums (float64 across blocks of rows, shifted by the first row),
 * the normalisation in a second; the backward two passes, recomputing the pre-activation from x.
 * x is seen as [outer, n, inner] around the normalised axis (n long); gamma and beta hold n values.
 * Outputs: y, the mean and 1 / sqrt(var + eps) per (outer, inner) (biased variance, as PyTorch).
 */
export const LAYER_NORM = 'ExpAsdLayerNorm';
export const LAYER_NORM_GRAD = 'ExpAsdLayerNormGrad';

/** The bits of a float32 as an int32 (helper threads take int32 arguments). */
function floatBits(v: number): number {
  return new Int32Array(new Float32Array([v]).buffer)[0]!;
}

function geometry(x: TensorInfo, axis: number): { outer: number; n: number; inner: number } {
  const a = axis < 0 ? axis + x.shape.length : axis;
  return {
    outer: sizeOf(x.shape.slice(0, a)),
    n: x.shape[a]!,
    inner: sizeOf(x.shape.slice(a + 1)),
  };
}

/** The LeakyReLU arguments of the C kernels: [on, slope bits]; `slope` < 0 in attrs means none. */
function leakyArgs(slope: number): [number, number] {
  return slope >= 0 ? [1, floatBits(slope)] : [0, 0];
}

function forward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { x, gamma, beta } = inputs as Record<'x' | 'gamma' | 'beta', TensorInfo>;
  const { outer, n, inner } = geometry(x, attrs?.['axis'] as number);
  const eps = attrs?.['eps'] as number;
  const y = b.makeOutput([...x.shape], 'float32');
  const meanT = b.makeOutput([outer, inner], 'float32');
  const invT = b.makeOutput([outer, inner], 'float32');
  const cols = outer * inner;
  withScratch(b, 16 * cols + 4 * cols, (at) => {
    const [s1, s2, shiftAt] = [at, at + 8 * cols, at + 16 * cols];
    // Sums shifted by the first row of each item keep the variance accurate when |mean| >> std.
    const xs = f32(b, x);
    const shift = f32At(b, shiftAt, cols);
    for (let o = 0; o < outer; o++) shift.set(xs.subarray(o * n * inner, o * n * inner + inner), o * inner);
    for (let o = 0; o < outer; o++) {
      const off = o * inner;
      parallel(
        b,
        'col_sums',
        inner,
        [ptr(b, x) + 4 * o * n * inner, 0, n, inner, shiftAt + 4 * off, s1 + 8 * off, s2 + 8 * off, 0],
        4,
      );
    }
    const [sum1, sum2, sh] = [f64At(b, s1, cols), f64At(b, s2, cols), f32At(b, shiftAt, cols)];
    const [mean, inv] = [f32(b, meanT), f32(b, invT)];
    for (let j = 0; j < cols; j++) {
      const m = sum1[j]! / n;
      const v = Math.max(sum2[j]! / n - m * m, 0);
      mean[j] = sh[j]! + m;
      inv[j] = 1 / Math.sqrt(v + eps);
    }
  });
  const args = [ptr(b, x), ptr(b, y), ptr(b, meanT), ptr(b, invT), ptr(b, gamma), ptr(b, beta), n, inner];
  parallel(b, 'ln_fwd', outer * n, [...args, ...leakyArgs(attrs?.['slope'] as number)], 1, 16);
  return [y, meanT, invT];
}

function backward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { dy, x, gamma, beta, mean, inv } = inputs as Record<
    'dy' | 'x' | 'gamma' | 'beta' | 'mean' | 'inv',
    TensorInfo
  >;
  const { outer, n, inner } = geometry(x, attrs?.['axis'] as number);
  const leaky = leakyArgs(attrs?.['slope'] as number);
  const dx = b.makeOutput([...x.shape], 'float32');
  const dgamma = b.makeOutput([...gamma.shape], 'float32');
  const dbeta = b.makeOutput([...beta.shape], 'float32');
  const cols = outer * inner;
  const rows = outer * n;
  // float64 s1, s2 [cols]; float32 row sums [rows] x 2, block accumulators [outer, 2, inner], c1, c2 [cols].
  withScratch(b, 16 * cols + 8 * rows + 8 * cols + 8 * cols, (at) => {
    const s1 = at;
    const s2 = s1 + 8 * cols;
    const rdz = s2 + 8 * cols;
    const rdzx = rdz + 4 * rows;
    const acc = rdzx + 4 * rows;
    const c1 = acc + 8 * cols;
    const c2 = c1 + 4 * cols;
    const common = [ptr(b, x), ptr(b, dy), ptr(b, mean), ptr(b, inv), ptr(b, gamma), ptr(b, beta), n, inner];
    parallel(b, 'ln_bwd_sums', outer, [...common, ...leaky, s1, s2, rdz, rdzx, acc]);
    const [sum1, sum2] = [f64At(b, s1, cols), f64At(b, s2, cols)];
    const [k1, k2] = [f32At(b, c1, cols), f32At(b, c2, cols)];
    for (let j = 0; j < cols; j++) {
      k1[j] = sum1[j]! / n;
      k2[j] = sum2[j]! / n;
    }
    const [rz, rzx, dg, db] = [f32At(b, rdz, rows), f32At(b, rdzx, rows), f32(b, dgamma), f32(b, dbeta)];
    for (let t = 0; t < n; t++) {
      let g = 0;
      let s = 0;
      for (let o = 0; o < outer; o++) {
        g += rzx[o * n + t]!;
        s += rz[o * n + t]!;
      }
      dg[t] = g;
      db[t] = s;
    }
    const [xp, dyp, mp, ip, gp, bp] = common;
    parallel(b, 'ln_bwd_dx', rows, [xp!, dyp!, mp!, ip!, gp!, bp!, c1, c2, ptr(b, dx), n, inner, ...leaky], 1, 16);
  });
  return [dx, dgamma, dbeta];
}

export const layerNormConfig = wasmKernel(LAYER_NORM, forward);
export const layerNormGradConfig = wasmKernel(LAYER_NORM_GRAD, backward);

export const layerNormGradient: GradConfig = {
  kernelName: LAYER_NORM,
  inputsToSave: ['x', 'gamma', 'beta'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, gamma, beta, mean, inv] = saved as tf.Tensor[];
    const [dx, dgamma, dbeta] = tf
      .engine()
      .runKernel(
        LAYER_NORM_GRAD,
        { dy, x: x!, gamma: gamma!, beta: beta!, mean: mean!, inv: inv! },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

/**
 * The fused kernel applies when it exists (wasm), x is float32 and gamma, beta hold one value per
 * position of the normalised axis, broadcast over the axes after it (shape [n] for the last axis,
 * [n, 1] for the one before, ...).
 */
export function fusedLayerNormAvailable(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, axis: number): boolean {
  if (x.dtype !== 'float32' || tf.getBackend() !== 'wasm' || !tf.getKernel(LAYER_NORM, 'wasm')) return false;
  const a = axis < 0 ? axis + x.rank : axis;
  if (a < 0 || a >= x.rank) return false;
  const n = x.shape[a]!;
  const trailing = x.rank - a; // the normalised axis and those after it
  const fits = (t: tf.Tensor) =>
    t.dtype === 'float32' &&
    t.rank <= trailing &&
    t.size === n &&
    t.shape[t.rank - trailing] === n &&
    t.shape.slice(t.rank - trailing + 1).every((d) => d === 1);
  return fits(gamma) && fits(beta);
}

/** LayerNorm over `axis` (then LeakyReLU with `slope` when given) as one fused kernel: y only. */
export function layerNormFused<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  axis: number,
  eps: number,
  slope?: number,
): T {
  const a = axis < 0 ? axis + x.rank : axis;
  const [y] = tf
    .engine()
    .runKernel(LAYER_NORM, { x, gamma, beta }, { axis: a, eps, slope: slope ?? -1 }) as tf.Tensor[];
  return y as T;
}
