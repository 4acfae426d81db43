import type { TensorInfo } from '@tensorflow/tfjs';
import { f32, run, sizeOf, wasmKernel, type KernelArgs as Args, type WasmBackend } from './wasm-util.js';

/**
 * Sum / Mean over leading axes and Tile, the reductions and broadcasts of BatchNorm and bias
 * gradients. The wasm originals transpose before reducing and tile element by element (~364 ms
 * per 5 M floats, measured; docs/backend.md); these are single streaming passes in JS over the
 * wasm heap. Other cases delegate to the originals.
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

function reduceLeading(name: 'Sum' | 'Mean', args: Args): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const rank = x.shape.length;
  const axes = normAxes(args.attrs?.['axis'], rank);
  const leading = axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading || axes.length === 0) return run(backend, name, args.inputs, args.attrs);
  const keepDims = Boolean(args.attrs?.['keepDims']);
  const rows = sizeOf(x.shape.slice(0, axes.length));
  const inner = x.shape.slice(axes.length);
  const cols = sizeOf(inner);
  const outShape = keepDims ? [...x.shape.slice(0, axes.length).map(() => 1), ...inner] : inner;
  const out = backend.makeOutput(outShape, 'float32');
  const xs = f32(backend, x);
  const acc = new Float64Array(cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    for (let c = 0; c < cols; c++) acc[c]! += xs[o + c]!;
  }
  if (name === 'Mean') for (let c = 0; c < cols; c++) acc[c]! /= rows;
  f32(backend, out).set(acc);
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

export const sumConfig = wasmKernel('Sum', (a) => reduceLeading('Sum', a));
export const meanConfig = wasmKernel('Mean', (a) => reduceLeading('Mean', a));
export const tileConfig = wasmKernel('Tile', tile);
