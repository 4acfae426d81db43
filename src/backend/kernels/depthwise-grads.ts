import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { convGeometry } from './conv-geometry.js';
import { f32, free, run, type WasmBackend } from './wasm-util.js';

/**
 * Depthwise conv gradients (channel multiplier 1), missing from tfjs-backend-wasm. One pass over
 * the output pixels in JS over the wasm heap; the innermost loop runs over the contiguous channel
 * axis. The filter gradient accumulates in float64 (the sums run over N*Ho*Wo terms).
 */

function filterGrad(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs ?? {};
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  if (filterShape[3] !== 1) throw new Error('DepthwiseConv2dNativeBackpropFilter: channel multiplier > 1 is not supported on wasm');
  const g = convGeometry(x.shape, filterShape, attrs, true);
  const { n, h, w, ci: c, ho, wo, kh, kw, sh, sw, dh, dw, top, left } = g;
  const out = backend.makeOutput(filterShape, 'float32');
  const xs = f32(backend, x);
  const dys = f32(backend, dy);
  const acc = new Float64Array(kh * kw * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        const d = ((b * ho + oy) * wo + ox) * c;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - top + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - left + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const s = ((b * h + iy) * w + ix) * c;
            const a = (ky * kw + kx) * c;
            for (let ch = 0; ch < c; ch++) acc[a + ch]! += xs[s + ch]! * dys[d + ch]!;
          }
        }
      }
    }
  }
  f32(backend, out).set(acc);
  return out;
}

function inputGrad(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs ?? {};
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  if (filter.shape[3] !== 1) throw new Error('DepthwiseConv2dNativeBackpropInput: channel multiplier > 1 is not supported on wasm');
  const g = convGeometry(inputShape, filter.shape, attrs, true);
  const { n, h, w, ci: c, ho, wo, kh, kw, sh, sw, dh, dw, top, left } = g;
  // Stride 1: the input gradient is a forward depthwise conv of dy with the spatially flipped
  // filter (XNNPACK, threaded), padded by k - 1 - pad on each side.
  const padT = kh - 1 - top;
  const padL = kw - 1 - left;
  const padB = h - ho - padT + kh - 1;
  const padR = w - wo - padL + kw - 1;
  if (sh === 1 && sw === 1 && dh === 1 && dw === 1 && padT >= 0 && padL >= 0 && padB >= 0 && padR >= 0) {
    const flipped = backend.makeOutput([...filter.shape], 'float32');
    const src = f32(backend, filter);
    const dst = f32(backend, flipped);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const from = (ky * kw + kx) * c;
        dst.set(src.subarray(from, from + c), ((kh - 1 - ky) * kw + (kw - 1 - kx)) * c);
      }
    }
    const pad = [[0, 0], [padT, padB], [padL, padR], [0, 0]];
    const out = run(backend, 'DepthwiseConv2dNative', { x: dy, filter: flipped }, { strides: [1, 1], pad, dilations: [1, 1], dataFormat: 'NHWC' });
    free(backend, flipped);
    return out;
  }
  const dx = backend.makeOutput(inputShape, 'float32');
  const out = f32(backend, dx);
  out.fill(0);
  const dys = f32(backend, dy);
  const ws = f32(backend, filter);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        const d = ((b * ho + oy) * wo + ox) * c;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - top + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - left + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const s = ((b * h + iy) * w + ix) * c;
            const a = (ky * kw + kx) * c;
            for (let ch = 0; ch < c; ch++) out[s + ch]! += ws[a + ch]! * dys[d + ch]!;
          }
        }
      }
    }
  }
  return dx;
}

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: filterGrad as unknown as KernelConfig['kernelFunc'],
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: inputGrad as unknown as KernelConfig['kernelFunc'],
};
