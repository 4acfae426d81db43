import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { ptr, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { parallel } from './parallel.js';
import { f32At, simd, withScratch } from './simd.js';
import { windowColumn } from './im2col.js';

/**
 * A 1-D convolution (no bias) in evaluation mode without its column matrix (csrc/exp_kernels.c
 * `conv1d_rows`): x [B, L, Cin] with PyTorch's symmetric zero padding, w [k Cin, Cout], y
 * [B out, Cout]. Every output whose window lies inside its clip reads x in place (consecutive
 * windows are stride Cin floats apart, so they form a matrix with that row stride); only the
 * border outputs (those whose window reaches into the padding: one at each end of a clip for
 * Tgram) get real columns. The same packed GEMM and tiles as ExpAsdIm2col1d followed by
 * BatchMatMul, so the same bits, without writing and reading back the columns: Tgram's front conv
 * (k 1024, stride 512) had them at twice the waveform, its k = 3 convs at three times the map.
 * Evaluation only (no gradient): training keeps the columns, which its weight gradient reads.
 */
export const CONV1D_DIRECT = 'ExpAsdConv1dDirect';

interface Geometry {
  batch: number;
  len: number;
  cin: number;
  k: number;
  stride: number;
  pad: number;
  out: number;
  /** Outputs [tlo, thi) of each clip have their window inside it. */
  tlo: number;
  thi: number;
}

function geometryOf(x: TensorInfo, k: number, stride: number, pad: number): Geometry {
  const [batch, len, cin] = x.shape as [number, number, number];
  const out = Math.floor((len + 2 * pad - k) / stride) + 1;
  const tlo = Math.min(out, Math.ceil(pad / stride));
  const thi = Math.max(tlo, Math.min(out, Math.floor((len + pad - k) / stride) + 1));
  return { batch, len, cin, k, stride, pad, out, tlo, thi };
}

function forward({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { x, w } = inputs as Record<'x' | 'w', TensorInfo>;
  const { k, stride, pad } = attrs as { k: number; stride: number; pad: number };
  const g = geometryOf(x, k, stride, pad);
  const kk = k * g.cin;
  const n = w.shape[1]!;
  const y = b.makeOutput([g.batch * g.out, n], 'float32');
  const inner = g.thi - g.tlo;
  const border: number[] = [];
  for (let bi = 0; bi < g.batch; bi++)
    for (let t = 0; t < g.out; t++) if (t < g.tlo || t >= g.thi) border.push(bi * g.out + t);
  const strips = n / 8;
  const packed = strips * kk * 32;
  const cols = border.length * kk * 4;
  withScratch(
    b,
    packed + cols + border.length * n * 4,
    (bp) => {
      parallel(b, 'pack_strips', strips, [ptr(b, w), bp, kk, n, 8, n], 1, 8);
      const rows = g.batch * inner;
      if (rows > 0) {
        const args = [ptr(b, x), bp, ptr(b, y), g.len, g.cin, g.stride, g.pad, g.out, g.tlo, g.thi, kk, n];
        parallel(b, 'conv1d_rows', rows, args, 4, Math.max(4, Math.ceil(4096 / n)));
      }
      if (border.length > 0) borderRows(b, x, g, border, bp, bp + packed, bp + packed + cols, y, n);
    },
    false,
  );
  return y;
}

/** The border outputs through real columns (zeros for the padding) and the same packed product. */
function borderRows(
  b: WasmBackend,
  x: TensorInfo,
  g: Geometry,
  border: readonly number[],
  bp: number,
  colsAt: number,
  outAt: number,
  y: TensorInfo,
  n: number,
): void {
  const kk = g.k * g.cin;
  const src = f32At(b, ptr(b, x), g.batch * g.len * g.cin);
  const cols = f32At(b, colsAt, border.length * kk);
  border.forEach((row, i) => {
    const bi = Math.floor(row / g.out);
    windowColumn(src, g, bi, row - bi * g.out, cols, i * kk);
  });
  simd(b).gemm_nn_p(colsAt, bp, outAt, kk, n, 0, 0, 0, 0, border.length);
  const res = f32At(b, outAt, border.length * n);
  const dst = f32At(b, ptr(b, y), g.batch * g.out * n);
  border.forEach((row, i) => dst.set(res.subarray(i * n, (i + 1) * n), row * n));
}

export const conv1dDirectConfig = wasmKernel(CONV1D_DIRECT, forward);

/** True when the kernel applies: wasm with it registered, float32, x [B, L, Cin], w [k, Cin, Cout] with Cout a multiple of 8. */
export function conv1dDirectAvailable(x: tf.Tensor, w: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(CONV1D_DIRECT, 'wasm')) return false;
  return x.dtype === 'float32' && w.dtype === 'float32' && x.rank === 3 && w.rank === 3 && w.shape[2]! % 8 === 0;
}

/** y [B, out, Cout] = conv1d(x [B, L, Cin], w [k, Cin, Cout]) with symmetric zero padding `pad`, no bias. */
export function conv1dDirect(x: tf.Tensor3D, w: tf.Tensor3D, stride: number, pad: number): tf.Tensor3D {
  const [b, len] = x.shape;
  const [k, cin, cout] = w.shape;
  const out = Math.floor((len + 2 * pad - k) / stride) + 1;
  return tf.tidy(() => {
    const y = tf.engine().runKernel(CONV1D_DIRECT, { x, w: w.reshape([k * cin, cout]) }, { k, stride, pad });
    return (y as tf.Tensor2D).reshape([b, out, cout]);
  });
}
