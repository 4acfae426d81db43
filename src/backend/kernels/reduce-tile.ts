import type { TensorInfo } from '@tensorflow/tfjs';
import { f32, ptr, run, sizeOf, wasmKernel, type KernelArgs as Args, type WasmBackend } from './wasm-util.js';
import { f64At, withScratch } from './simd.js';
import { parallel } from './parallel.js';

/**
 * Sum / Mean over consecutive axes and Tile, the reductions and broadcasts of bias and broadcast-
 * weight gradients. The wasm originals transpose before reducing and tile element by element
 * (~364 ms per 5 M floats, measured; docs/backend.md). Sums are one SIMD pass of column sums
 * (csrc/exp_kernels.c `col_sum`, float64 across blocks of rows; a JS loop over the heap was
 * ~8 ns per element), Tile block copies. Other cases delegate to the originals.
 */

function normAxes(axis: unknown, rank: number): number[] {
  const list =
    axis === undefined || axis === null
      ? [...Array(rank).keys()]
      : Array.isArray(axis)
        ? (axis as number[])
        : [axis as number];
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
}

function reduceAxes(name: 'Sum' | 'Mean', args: Args): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const shape = x.shape;
  const axes = normAxes(args.attrs?.['axis'], shape.length);
  const consecutive = axes.length > 0 && axes.every((a, i) => a === axes[0]! + i);
  if (x.dtype !== 'float32' || !consecutive) return run(backend, name, args.inputs, args.attrs);
  const [a0, a1] = [axes[0]!, axes[axes.length - 1]!];
  const outer = sizeOf(shape.slice(0, a0));
  const rows = sizeOf(shape.slice(a0, a1 + 1));
  const inner = sizeOf(shape.slice(a1 + 1));
  // Trailing axes (a row sum per output) stay with the original, which needs no transpose then.
  if (inner < 4 || rows === 0) return run(backend, name, args.inputs, args.attrs);
  const keepDims = Boolean(args.attrs?.['keepDims']);
  const outShape = keepDims
    ? shape.map((d, i) => (i >= a0 && i <= a1 ? 1 : d))
    : shape.filter((_, i) => i < a0 || i > a1);
  const out = backend.makeOutput(outShape, 'float32');
  withScratch(backend, 8 * outer * inner, (s) => {
    for (let o = 0; o < outer; o++) {
      const args = [ptr(backend, x) + 4 * o * rows * inner, rows, inner, s + 8 * o * inner];
      parallel(backend, 'col_sum', inner, args, 4, Math.max(8, Math.ceil(16384 / rows)));
    }
    const sums = f64At(backend, s, outer * inner);
    if (name === 'Mean') for (let i = 0; i < sums.length; i++) sums[i]! /= rows;
    f32(backend, out).set(sums);
  });
  return out;
}

/** Tile by block copies: the innermost non-trivial run is copied with TypedArray.set. */
function tile(args: Args): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const reps = args.attrs?.['reps'] as number[];
  if (x.dtype !== 'float32' || x.shape.length === 0) return run(backend, 'Tile', args.inputs, args.attrs);
  const inShape = x.shape;
  const outShape = inShape.map((d, i) => d * reps[i]!);
  const out = backend.makeOutput(outShape, 'float32');
  const src = f32(backend, x);
  const dst = f32(backend, out);
  const rank = inShape.length;
  // Strides of the output; an output block for axis i holds prod(outShape[i+1..]) values.
  const outBlock = new Array<number>(rank + 1).fill(1);
  const inBlock = new Array<number>(rank + 1).fill(1);
  for (let i = rank - 1; i >= 0; i--) {
    outBlock[i] = outBlock[i + 1]! * outShape[i]!;
    inBlock[i] = inBlock[i + 1]! * inShape[i]!;
  }
  // Fill axis `i` of the output block at `o` from the input block at `s`: first each input
  // index along the axis (recursing), then repeat the filled run reps[i] - 1 times.
  const fill = (i: number, s: number, o: number): void => {
    if (i === rank) {
      dst[o] = src[s]!;
      return;
    }
    const run = inShape[i]! * outBlock[i + 1]!;
    if (inBlock[i + 1] === outBlock[i + 1]) {
      // No tiling below this axis: the input run is contiguous.
      dst.set(src.subarray(s, s + inBlock[i]!), o);
    } else {
      for (let j = 0; j < inShape[i]!; j++) fill(i + 1, s + j * inBlock[i + 1]!, o + j * outBlock[i + 1]!);
    }
    for (let r = 1; r < reps[i]!; r++) dst.copyWithin(o + r * run, o, o + run);
  };
  fill(0, 0, 0);
  return out;
}

export const sumConfig = wasmKernel('Sum', (a) => reduceAxes('Sum', a));
export const meanConfig = wasmKernel('Mean', (a) => reduceAxes('Mean', a));
export const tileConfig = wasmKernel('Tile', tile);
