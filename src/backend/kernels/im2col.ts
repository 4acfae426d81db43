import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';
import { f32, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';

/**
 * The columns of a 1-D convolution as one kernel with its own gradient. x [B, L, Cin] with
 * PyTorch's symmetric zero padding `pad` gives cols [B * out, k Cin], row (b, t) holding the
 * receptive field of output t: cols[b out + t, kk Cin + c] = x[b, t stride + kk - pad, c], or 0
 * outside x. Built as tfjs ops (pad, slice, reshape, one slice per tap, concat along the last
 * axis) Tgram's convolutions ran ~10 ops forward and ~8 backward per layer, the concat and its
 * SplitV gradient copying element by element on wasm; here one copy of a contiguous run per row
 * (the padded input's window is contiguous when k is a whole number of strides), and the
 * gradient one pass that adds each input position's taps in the order tfjs's tape added the
 * padded slices' gradients (last tap first), so the bits are those of the graph.
 */
export const IM2COL_1D = 'ExpAsdIm2col1d';
export const COL2IM_1D = 'ExpAsdCol2im1d';

interface Geometry {
  batch: number;
  len: number;
  cin: number;
  k: number;
  stride: number;
  pad: number;
  out: number;
}

function geometryOf(
  attrs: KernelArgs['attrs'],
  len: number,
  cin: number,
  rowsOrBatch: number,
  rows: boolean,
): Geometry {
  const { k, stride, pad } = attrs as { k: number; stride: number; pad: number };
  const out = Math.floor((len + 2 * pad - k) / stride) + 1;
  return { batch: rows ? rowsOrBatch / out : rowsOrBatch, len, cin, k, stride, pad, out };
}

/** Output t of clip n's window as one column row at dst[at...]: its taps inside x, zeros for the padding. */
export function windowColumn(
  src: Float32Array,
  g: Pick<Geometry, 'len' | 'cin' | 'k' | 'stride' | 'pad'>,
  n: number,
  t: number,
  dst: Float32Array,
  at: number,
): void {
  const { len, cin, k } = g;
  // Taps [lo, hi) of this window fall inside x; the rest is padding.
  const start = t * g.stride - g.pad;
  const lo = Math.min(k, Math.max(0, -start));
  const hi = Math.max(lo, Math.min(k, len - start));
  if (lo > 0) dst.fill(0, at, at + lo * cin);
  const from = (n * len + start) * cin;
  if (hi > lo) dst.set(src.subarray(from + lo * cin, from + hi * cin), at + lo * cin);
  if (hi < k) dst.fill(0, at + hi * cin, at + k * cin);
}

function im2col({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const x = inputs['x']!;
  const [batch, len, cin] = x.shape as [number, number, number];
  const g = geometryOf(attrs, len, cin, batch, false);
  const row = g.k * cin;
  const cols = b.makeOutput([batch * g.out, row], 'float32');
  const src = f32(b, x);
  const dst = f32(b, cols);
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < g.out; t++) {
      windowColumn(src, g, n, t, dst, (n * g.out + t) * row);
    }
  }
  return cols;
}

/**
 * dx[b, i, c] = the sum over the taps j (last first) of dcols at the row and column that read
 * x[b, i, c] through tap j, a tap outside the rows adding +0 as the zero-padded slice gradients
 * did. Float32 sums: a float64 sum of two float32 values rounds to float32 as float32 addition.
 */
function col2im({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const dy = inputs['dy']!;
  const { len, cin } = attrs as { len: number; cin: number };
  const g = geometryOf(attrs, len, cin, dy.shape[0]!, true);
  if (g.k % g.stride !== 0) throw new Error(`${COL2IM_1D}: kernel ${g.k} is not a whole number of strides ${g.stride}`);
  const taps = g.k / g.stride;
  const row = g.k * cin;
  const dx = b.makeOutput([g.batch, len, cin], 'float32');
  const src = f32(b, dy);
  const dst = f32(b, dx);
  const from = new Int32Array(taps);
  for (let n = 0; n < g.batch; n++) {
    for (let i = 0; i < len; i++) {
      const p = i + g.pad;
      const q = Math.floor(p / g.stride);
      const o = p - q * g.stride;
      // Where each tap's value sits in dcols, last tap first; -1 where the tap falls outside.
      let valid = 0;
      for (let j = taps - 1; j >= 0; j--) {
        const t = q - j;
        const inside = t >= 0 && t < g.out;
        from[taps - 1 - j] = inside ? (n * g.out + t) * row + (j * g.stride + o) * cin : -1;
        valid += inside ? 1 : 0;
      }
      addTaps(src, dst, (n * len + i) * cin, cin, from, valid === taps);
    }
  }
  return dx;
}

/**
 * dst[at + c] = ((v0 + v1) + v2) + ... over the taps' runs `from` (last tap first), a run at -1
 * adding +0 (which turns a -0 sum into +0, as adding the zero padding did). Every sum is rounded
 * to float32, the last by the store.
 */
function addTaps(src: Float32Array, dst: Float32Array, at: number, cin: number, from: Int32Array, all: boolean): void {
  if (all && from.length === 3) {
    const [a, b, c] = from as unknown as [number, number, number];
    for (let k = 0; k < cin; k++) dst[at + k] = Math.fround(src[a + k]! + src[b + k]!) + src[c + k]!;
    return;
  }
  if (from[0]! >= 0) dst.set(src.subarray(from[0]!, from[0]! + cin), at);
  else dst.fill(0, at, at + cin);
  for (let j = 1; j < from.length; j++) {
    const f = from[j]!;
    if (f >= 0) for (let k = 0; k < cin; k++) dst[at + k] = dst[at + k]! + src[f + k]!;
    else for (let k = 0; k < cin; k++) dst[at + k] = dst[at + k]! + 0;
  }
}

export const im2colConfig = wasmKernel(IM2COL_1D, im2col);
export const col2imConfig = wasmKernel(COL2IM_1D, col2im);

export const im2colGradient: GradConfig = {
  kernelName: IM2COL_1D,
  inputsToSave: [],
  gradFunc: (dys, _saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    return { x: () => tf.engine().runKernel(COL2IM_1D, { dy }, attrs as tf.NamedAttrMap) as tf.Tensor };
  },
};

/** True when the fused kernel applies: wasm, float32 x [B, L, Cin], k a whole number of strides. */
export function fusedIm2colAvailable(x: tf.Tensor, k: number, stride: number): boolean {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(IM2COL_1D, 'wasm')) return false;
  return x.dtype === 'float32' && x.rank === 3 && k % stride === 0;
}

/** The columns [B * out, k Cin] of x [B, L, Cin] for a 1-D conv (kernel k, stride, symmetric zero pad). */
export function im2col1d(x: tf.Tensor3D, k: number, stride: number, pad: number): tf.Tensor2D {
  const [, len, cin] = x.shape;
  return tf.engine().runKernel(IM2COL_1D, { x }, { k, stride, pad, len, cin }) as tf.Tensor2D;
}
