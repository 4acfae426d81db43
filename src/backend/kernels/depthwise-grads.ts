import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, withHeapGeometry, type ConvGeometry } from './conv-geometry.js';
import { ptr, f32, free, run, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { f32At, f64At, simd, withScratch } from './simd.js';
import { parallel } from './parallel.js';
import { rowGroups, sumGroups } from './row-groups.js';
import { dw3, dw3Served } from './depthwise-fwd.js';

/**
 * Depthwise conv gradients (channel multiplier 1), missing from tfjs-backend-wasm. The filter
 * gradient is one pass of our SIMD kernel. The input gradient is a forward depthwise conv for
 * stride 1 (our dw3_fwd pass for 3 x 3 with padding 1, else XNNPACK's) and a gather pass of our
 * SIMD kernel otherwise.
 * (The filter gradient used to be an XNNPACK depthwise conv of x with dy as a dilated filter:
 * ~0.5 GFLOP/s, since XNNPACK is not built for filters that size; the SIMD pass is ~10x faster.)
 */

function filterGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs ?? {};
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  if (filterShape[3] !== 1)
    throw new Error('DepthwiseConv2dNativeBackpropFilter: channel multiplier > 1 is not supported on wasm');
  const g = convGeometry(x.shape, filterShape, attrs, true);
  const out = backend.makeOutput(filterShape, 'float32');
  const [taps, c] = [g.kh * g.kw, g.ci];
  // One SIMD pass (csrc/exp_kernels.c `dw_filter_grad_rg`): float32 tap sums per output row, float64
  // across rows; threads split the output rows in fixed groups (row-groups.ts). Scratch: float64
  // [groups, taps, c] accumulators, then float32 [groups, taps, c] row sums.
  const { grows, groups } = rowGroups(g.n * g.ho, g.wo * c);
  const part = taps * c;
  // Only the float64 accumulators are zeroed: the kernel clears its row sums itself.
  withScratch(
    backend,
    part * groups * 12,
    (acc) => {
      const rowAcc = acc + part * groups * 8;
      withHeapGeometry(backend, g, (geo) =>
        parallel(backend, 'dw_filter_grad_rg', groups, [ptr(backend, x), ptr(backend, dy), acc, rowAcc, geo, grows]),
      );
      sumGroups(backend, acc, groups, part);
      f32(backend, out).set(f64At(backend, acc, part));
    },
    part * groups * 8,
  );
  return out;
}

/** The filter [kh, kw, c, 1] rotated by 180 degrees in its two spatial axes. */
function flipTaps(backend: WasmBackend, filter: TensorInfo): TensorInfo {
  const [kh, kw, c] = filter.shape as [number, number, number, number];
  const flipped = backend.makeOutput([...filter.shape], 'float32');
  const src = f32(backend, filter);
  const dst = f32(backend, flipped);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const from = (ky * kw + kx) * c;
      dst.set(src.subarray(from, from + c), ((kh - 1 - ky) * kw + (kw - 1 - kx)) * c);
    }
  }
  return flipped;
}

function inputGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs ?? {};
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  if (filter.shape[3] !== 1)
    throw new Error('DepthwiseConv2dNativeBackpropInput: channel multiplier > 1 is not supported on wasm');
  const g = convGeometry(inputShape, filter.shape, attrs, true);
  const { n, h, w, ci: c, ho, wo, kh, kw, sh, sw, dh, dw, top, left } = g;
  // Global depthwise conv (the filter covers the whole unpadded input, one output pixel):
  // dx[b, y, x, c] = w[y, x, c] * dy[b, c], a broadcast product; XNNPACK would run it as a
  // kh x kw conv over kh x kw pixels.
  if (ho === 1 && wo === 1 && kh === h && kw === w && top === 0 && left === 0 && dh === 1 && dw === 1) {
    const dx = backend.makeOutput(inputShape, 'float32');
    const args = [ptr(backend, filter), ptr(backend, dy), ptr(backend, dx), h * w, c];
    parallel(backend, 'bcast_mul', n * h * w, args, 1, Math.max(1, Math.ceil(4096 / c)));
    return dx;
  }
  // Stride 1: a forward depthwise conv with the spatially flipped filter over dy padded by
  // k - 1 - pad on each side: our dw3_fwd pass where it serves (3 x 3, padding 1: MobileFaceNet's
  // blocks; threads split rows, so the result does not depend on the thread count), else tfjs's
  // (XNNPACK). Otherwise (strided; the old route was a conv over a zero-upsampled dy, ~2x slower)
  // one gather pass of our SIMD kernel.
  const padT = kh - 1 - top;
  const padL = kw - 1 - left;
  const padB = h - ho - padT + kh - 1;
  const padR = w - wo - padL + kw - 1;
  if (sh === 1 && sw === 1 && dh === 1 && dw === 1 && padT >= 0 && padL >= 0 && padB >= 0 && padR >= 0) {
    const pad = [
      [0, 0],
      [padT, padB],
      [padL, padR],
      [0, 0],
    ];
    const flipAttrs = { strides: [1, 1], pad, dilations: [1, 1], dataFormat: 'NHWC' };
    const served = dw3Served(dy, filter, flipAttrs);
    if (served) return dw3(backend, dy, filter, undefined, undefined, served, true);
    const flipped = flipTaps(backend, filter);
    const out = run(backend, 'DepthwiseConv2dNative', { x: dy, filter: flipped }, flipAttrs);
    free(backend, flipped);
    return out;
  }
  const dx = backend.makeOutput(inputShape, 'float32');
  if (kh === 3 && kw === 3 && dh === 1 && dw === 1 && c % 4 === 0 && sh >= 2 && sw >= 2) {
    // 3 x 3 (MobileFaceNet's strided blocks): at most 2 x 2 taps per input pixel, summed in
    // registers over the packed filter.
    withScratch(backend, 36 * c, (packed) => {
      simd(backend).dw3_pack(ptr(backend, filter), packed, c, 0);
      withHeapGeometry(backend, g, (geo) =>
        parallel(backend, 'dw3_input_grad', n * h, [ptr(backend, dy), packed, ptr(backend, dx), geo], 1, 4),
      );
    });
    return dx;
  }
  withHeapGeometry(backend, g, (geo) => {
    parallel(backend, 'dw_input_grad', n * h, [ptr(backend, dy), ptr(backend, filter), ptr(backend, dx), geo], 1, 4);
  });
  return dx;
}

/**
 * Both gradients of a 3 x 3 depthwise conv at stride 1 with padding 1 (MobileFaceNet's stride-1
 * blocks) from one kernel: `dw3_grads_rg` runs, per fixed row group of the filter gradient, the
 * input gradient's rows (dw3_fwd's tiles over dy with the flipped filter) and then the group's
 * filter sums, which find that part of dy in cache rather than reading it from memory a second
 * time. The same functions on the same rows as the two kernels above: the same bits.
 */
export const DEPTHWISE_GRADS = 'ExpAsdDepthwiseGrads';

/** The geometry dw3_grads_rg serves: dw3_fwd's at stride 1 with padding 1 on every side. */
function gradsServed(x: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap): ConvGeometry | null {
  const g = dw3Served(x, filter, attrs);
  const same = g && g.sh === 1 && g.sw === 1 && g.top === 1 && g.left === 1 && g.ho === g.h && g.wo === g.w;
  return same ? g : null;
}

function depthwiseGrads(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { x, dy, filter } = args.inputs as Record<'x' | 'dy' | 'filter', TensorInfo>;
  const g = gradsServed(x, filter, args.attrs ?? {});
  if (!g) throw new Error(`${DEPTHWISE_GRADS}: only 3 x 3 depthwise convs at stride 1 with padding 1`);
  const c = g.ci;
  const dx = backend.makeOutput([...x.shape], 'float32');
  const dw = backend.makeOutput([...filter.shape], 'float32');
  const { grows, groups } = rowGroups(g.n * g.ho, g.wo * c);
  const part = 9 * c;
  // Scratch: float64 [groups, 9, c] sums, float32 [groups, 9, c] row sums, the flipped filter
  // packed (9 c floats), c zeros (the input gradient's bias).
  // Zeroed: the float64 sums and the zeros (the kernel clears its row sums, dw3_pack fills the filter).
  withScratch(
    backend,
    part * groups * 12 + 40 * c,
    (acc) => {
      const rowAcc = acc + part * groups * 8;
      const packed = rowAcc + part * groups * 4;
      f32At(backend, packed + 36 * c, c).fill(0);
      simd(backend).dw3_pack(ptr(backend, filter), packed, c, 1);
      withHeapGeometry(backend, g, (geo) => {
        const io = [ptr(backend, x), ptr(backend, dy), packed, packed + 36 * c, ptr(backend, dx)];
        parallel(backend, 'dw3_grads_rg', groups, [...io, acc, rowAcc, geo, grows]);
      });
      sumGroups(backend, acc, groups, part);
      f32(backend, dw).set(f64At(backend, acc, part));
    },
    part * groups * 8,
  );
  return [dx, dw];
}

export const depthwiseGradsConfig = wasmKernel(DEPTHWISE_GRADS, depthwiseGrads);

const tfjsGradient = tf.getGradient('DepthwiseConv2dNative');

/**
 * DepthwiseConv2dNative's gradient: both at once from ExpAsdDepthwiseGrads where it serves (wasm,
 * float32), else tfjs's own (two kernels). Computed when the tape reaches the node, so a gradient
 * that is not asked for is computed anyway and dropped with the backward pass's scope: these convs
 * sit inside the network, where both are always needed.
 */
export const depthwiseGradient: GradConfig = {
  kernelName: 'DepthwiseConv2dNative',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = dy as tf.Tensor4D;
    const fused =
      tf.getBackend() === 'wasm' &&
      tf.getKernel(DEPTHWISE_GRADS, 'wasm') !== undefined &&
      g.dtype === 'float32' &&
      filter.dtype === 'float32' &&
      gradsServed(x, filter, attrs as NamedAttrMap) !== null;
    if (!fused) return tfjsGradient!.gradFunc(dy, saved, attrs);
    const [dx, dw] = tf.engine().runKernel(DEPTHWISE_GRADS, { x, dy: g, filter }, attrs as NamedAttrMap) as tf.Tensor[];
    return { x: () => dx!, filter: () => dw! };
  },
};

export const depthwiseBackpropFilterConfig = wasmKernel('DepthwiseConv2dNativeBackpropFilter', filterGrad);
export const depthwiseBackpropInputConfig = wasmKernel('DepthwiseConv2dNativeBackpropInput', inputGrad);
