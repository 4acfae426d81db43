import { backend_util, slice_util, util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { ptr, f32, run, runAll, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { withScratch, i32At } from './simd.js';
import { parallel } from './parallel.js';

/**
 * Data-movement kernels whose tfjs-backend-wasm versions copy element by element or copy at all
 * (measured per step of FGASpecNet at batch 4: Identity ~50 ms over ~1,000 calls, Slice of the
 * padded waveform ~36 ms, Pack of the four feature maps ~35 ms and its gradient Unpack ~35 ms,
 * SplitV ~11 ms, PadV2 ~11 ms).
 */

/**
 * Identity without a copy: the output shares the input's data, as tfjs's cpu backend and the wasm
 * Reshape do (tensor data is immutable; Variable.assign swaps data rather than writing it). The
 * engine clones every tensor it saves for the backward pass, so the copying original doubled the
 * activation memory of a training step as well as costing its time.
 */
function identity({ inputs, backend }: KernelArgs): TensorInfo {
  const x = inputs['x']!;
  if (x.dtype === 'string') return run(backend as WasmBackend, 'Identity', { x });
  (backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * Start offsets, in a row-major array of shape `outer`, of the contiguous runs that make up the
 * window of shape `window` placed at `begin`: one run per index over the axes before `cut`
 * (the last axis where the window is narrower than `outer`), in row-major order. Slice reads
 * these runs; PadV2 writes them.
 */
function windowRuns(
  outer: readonly number[],
  begin: readonly number[],
  window: readonly number[],
  cut: number,
): number[] {
  const strides = util.computeStrides([...outer]);
  const stride = (d: number) => strides[d] ?? 1;
  let base = 0;
  for (let d = 0; d < outer.length; d++) base += begin[d]! * stride(d);
  const count = cut <= 0 ? 1 : sizeOf(window.slice(0, cut));
  const offsets = new Array<number>(count);
  // Walk the index over the axes before `cut` like an odometer.
  const idx = new Array<number>(Math.max(cut, 0)).fill(0);
  for (let o = 0; o < count; o++) {
    let off = base;
    for (let d = 0; d < idx.length; d++) off += idx[d]! * stride(d);
    offsets[o] = off;
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < window[d]!) break;
      idx[d] = 0;
    }
  }
  return offsets;
}

/**
 * Slice as block copies: axes after the last cut axis are whole, so the output is a sequence of
 * contiguous runs of the input (the original walks 3-D and 4-D slices element by element).
 */
function slice({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const x = inputs['x']!;
  const [begin, size] = slice_util.parseSliceParams(
    x as never,
    attrs?.['begin'] as number[],
    attrs?.['size'] as number | number[],
  );
  let cut = -1;
  for (let d = 0; d < x.shape.length; d++) if (size[d] !== x.shape[d]) cut = d;
  const run0 = cut < 0 ? sizeOf(x.shape) : sizeOf(size.slice(cut));
  if (x.dtype !== 'float32' || run0 < 16) return run(b, 'Slice', { x }, attrs);
  const out = b.makeOutput(size, 'float32');
  const src = f32(b, x);
  const dst = f32(b, out);
  windowRuns(x.shape, begin, size, cut).forEach((off, o) => dst.set(src.subarray(off, off + run0), o * run0));
  return out;
}

/** SplitV (the gradient of a concat) as block-copy slices; the original slices element by element. */
function splitV({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const x = inputs['x']!;
  const axis = util.parseAxisParam(attrs?.['axis'] as number, x.shape)[0]!;
  const sizes = backend_util.prepareSplitSize(x as never, attrs?.['numOrSizeSplits'] as number | number[], axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((part) => {
    const size = [...x.shape];
    size[axis] = part;
    const out = slice({ inputs: { x }, backend: b, attrs: { begin: [...begin], size } });
    begin[axis]! += part;
    return out;
  });
}

/**
 * PadV2 as a constant fill plus block copies: axes after the last padded one are whole, so the
 * input lands in the output as contiguous runs (the original C loop spends ~12 ns per element:
 * ~8 ms to pad the waveforms of a batch of 4 for the Tgram).
 */
function padV2({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const x = inputs['x']!;
  const paddings = attrs?.['paddings'] as Array<[number, number]>;
  const value = (attrs?.['constantValue'] as number | undefined) ?? 0;
  let last = -1;
  paddings.forEach(([lo, hi], d) => {
    if (lo !== 0 || hi !== 0) last = d;
  });
  const runLen = last < 0 ? sizeOf(x.shape) : sizeOf(x.shape.slice(last));
  if (x.dtype !== 'float32' || runLen < 16 || paddings.some(([lo, hi]) => lo < 0 || hi < 0))
    return run(b, 'PadV2', { x }, attrs);
  const outShape = x.shape.map((n, d) => n + paddings[d]![0] + paddings[d]![1]);
  const out = b.makeOutput(outShape, 'float32');
  const src = f32(b, x);
  const dst = f32(b, out);
  dst.fill(value);
  const begin = paddings.map(([lo]) => lo);
  windowRuns(outShape, begin, x.shape, last).forEach((off, o) =>
    dst.set(src.subarray(o * runLen, (o + 1) * runLen), off),
  );
  return out;
}

/** Parts of a last-axis concatenation: pointers and widths in heap scratch, for concat_last / split_last. */
function lastAxisParts(
  b: WasmBackend,
  parts: TensorInfo[],
  widths: number[],
  c: number,
  rows: number,
  into: TensorInfo,
  name: 'concat_last' | 'split_last',
): void {
  withScratch(b, parts.length * 8, (at) => {
    i32At(b, at, parts.length).set(parts.map((p) => ptr(b, p)));
    i32At(b, at + parts.length * 4, parts.length).set(widths);
    parallel(b, name, rows, [ptr(b, into), at, at + parts.length * 4, parts.length, c], 1, 256);
  });
}

/** tf.stack along the last axis (the §2.2 fusion stacks the four feature maps as channels). */
function pack({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const parts = Object.keys(inputs)
    .sort((p, q) => Number(p) - Number(q))
    .map((k) => inputs[k]!);
  const first = parts[0]!;
  const axis = attrs?.['axis'] as number;
  const rank = first.shape.length;
  const last = axis === rank || axis === -1;
  if (
    !last ||
    first.dtype !== 'float32' ||
    parts.some((p) => p.dtype !== 'float32' || !util.arraysEqual(p.shape, first.shape))
  ) {
    return run(b, 'Pack', inputs, attrs);
  }
  const out = b.makeOutput([...first.shape, parts.length], 'float32');
  lastAxisParts(
    b,
    parts,
    parts.map(() => 1),
    parts.length,
    sizeOf(first.shape),
    out,
    'concat_last',
  );
  return out;
}

/** tf.unstack along the last axis (the gradient of the stack above). */
function unpack({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const value = inputs['value']!;
  const rank = value.shape.length;
  const axis = attrs?.['axis'] as number;
  if ((axis !== rank - 1 && axis !== -1) || value.dtype !== 'float32') {
    return runAll(b, 'Unpack', inputs, attrs);
  }
  const n = value.shape[rank - 1]!;
  const outShape = value.shape.slice(0, rank - 1);
  const outs = Array.from({ length: n }, () => b.makeOutput([...outShape], 'float32'));
  lastAxisParts(
    b,
    outs,
    outs.map(() => 1),
    n,
    sizeOf(outShape),
    value,
    'split_last',
  );
  return outs;
}

/**
 * x with its axes permuted: the Transpose kernel, and the transposes our other kernels make (the
 * conv weight gradient's filter, BatchMatMul's transposed operands). When perm swaps the last two
 * axes (perm [.., r - 1, r - 2] with the leading axes in place: the DFT's and the Tgram's layout
 * changes, 2-D transposes) of a float32 tensor, 4 x 4 blocks on every thread; the original moved
 * one element at a time on one thread (~1.1 ms of a batch-4 scoring pass for ~0.6 M floats).
 * Other permutations go to it.
 */
export function transpose(b: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  const r = x.shape.length;
  const swapsLast2 = r >= 2 && perm.every((p, i) => p === (i < r - 2 ? i : 2 * r - 3 - i));
  if (!swapsLast2 || x.dtype !== 'float32') return run(b, 'Transpose', { x }, { perm });
  const [rows, cols] = x.shape.slice(-2) as [number, number];
  const out = b.makeOutput([...x.shape.slice(0, -2), cols, rows], 'float32');
  const units = sizeOf(x.shape.slice(0, -2)) * Math.ceil(cols / 4);
  if (rows > 0 && units > 0) parallel(b, 'transpose_last2', units, [ptr(b, x), ptr(b, out), rows, cols], 1, 16);
  return out;
}

export const transposeConfig = wasmKernel('Transpose', ({ inputs, backend, attrs }: KernelArgs) =>
  transpose(backend as WasmBackend, inputs['x']!, attrs?.['perm'] as number[]),
);
export const identityConfig = wasmKernel('Identity', identity);
export const sliceConfig = wasmKernel('Slice', slice);
export const packConfig = wasmKernel('Pack', pack);
export const unpackConfig = wasmKernel('Unpack', unpack);
export const splitVConfig = wasmKernel('SplitV', splitV);
export const padV2Config = wasmKernel('PadV2', padV2);

/**
 * Reverse along one axis as block copies: everything after the axis is one contiguous run that
 * moves as a whole (the original walks element by element: ~8 ms per [8, 156, 128] on one thread,
 * the mirrored half-spectrum of the evaluation-mode SpecNet). Several axes: the original.
 */
function reverse({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const x = inputs['x']!;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(attrs?.['dims'] as number | number[], x.shape).filter((a) => x.shape[a]! > 1);
  if (x.dtype !== 'float32' || axes.length !== 1) return run(b, 'Reverse', inputs, attrs);
  const axis = axes[0]!;
  const n = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1, rank));
  const outer = sizeOf(x.shape.slice(0, axis));
  const out = b.makeOutput([...x.shape], 'float32');
  const [src, dst] = [f32(b, x), f32(b, out)];
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let i = 0; i < n; i++)
      dst.set(src.subarray(base + i * inner, base + (i + 1) * inner), base + (n - 1 - i) * inner);
  }
  return out;
}

export const reverseConfig = wasmKernel('Reverse', reverse);
