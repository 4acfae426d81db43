import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, type ConvGeometry } from './conv-geometry.js';
import { f32, free, matmul2d, reshape, transpose, type WasmBackend } from './wasm-util.js';
import { matmulTN } from './gemm.js';

/**
 * Conv2D gradients as im2col + one plain matmul (the fast XNNPACK path), with the patch
 * gather / scatter written in JS over the wasm heap. tfjs-backend-wasm has no
 * Conv2DBackpropFilter at all and its Conv2DBackpropInput is a scalar C loop
 * (wasm-training-facts.md). Rows of the patch matrix are output pixels (n, y, x); columns are
 * (ky, kx, c), the row-major order of a filter [kh, kw, Cin, Cout] seen as [kh*kw*Cin, Cout].
 */

/** Patch matrix cols [N*Ho*Wo, kh*kw*Cin] of x (zeros where the window leaves the image). */
function im2col(g: ConvGeometry, x: Float32Array, cols: Float32Array): void {
  const { n, h, w, ci, ho, wo, kh, kw, sh, sw, dh, dw, top, left } = g;
  const k = kh * kw * ci;
  let row = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, row++) {
        let o = row * k;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - top + ky * dh;
          for (let kx = 0; kx < kw; kx++, o += ci) {
            const ix = ox * sw - left + kx * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
              cols.fill(0, o, o + ci);
            } else {
              const src = ((b * h + iy) * w + ix) * ci;
              if (ci === 1) cols[o] = x[src]!;
              else cols.set(x.subarray(src, src + ci), o);
            }
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: adds each patch row back into dx (which must start zeroed). */
function col2im(g: ConvGeometry, cols: Float32Array, dx: Float32Array): void {
  const { n, h, w, ci, ho, wo, kh, kw, sh, sw, dh, dw, top, left } = g;
  const k = kh * kw * ci;
  let row = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, row++) {
        let o = row * k;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - top + ky * dh;
          for (let kx = 0; kx < kw; kx++, o += ci) {
            const ix = ox * sw - left + kx * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const dst = ((b * h + iy) * w + ix) * ci;
            for (let c = 0; c < ci; c++) dx[dst + c]! += cols[o + c]!;
          }
        }
      }
    }
  }
}

function isPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.top === 0 && g.left === 0 && g.ho === g.h && g.wo === g.w;
}

/** dW [kh, kw, Cin, Cout] = cols^T dy. */
function conv2DBackpropFilter(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs ?? {};
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const g = convGeometry(x.shape, filterShape, attrs, false);
  const m = g.n * g.ho * g.wo;
  const k = g.kh * g.kw * g.ci;
  const dy2 = reshape(backend, dy, [m, g.co]);
  let cols: TensorInfo;
  if (isPointwise(g)) {
    cols = reshape(backend, x, [m, k]);
  } else {
    cols = backend.makeOutput([m, k], 'float32');
    im2col(g, f32(backend, x), f32(backend, cols));
  }
  const result = matmulTN(backend, cols, dy2); // [K, Co]
  free(backend, dy2, cols);
  const out = reshape(backend, result, filterShape);
  free(backend, result);
  return out;
}

/** dx = col2im(dy W^T): one matmul against the small transposed filter, then a scatter-add. */
function conv2DBackpropInput(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs ?? {};
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  const g = convGeometry(inputShape, filter.shape, attrs, false);
  const m = g.n * g.ho * g.wo;
  const k = g.kh * g.kw * g.ci;
  const dy2 = reshape(backend, dy, [m, g.co]);
  const w2 = reshape(backend, filter, [k, g.co]);
  const wT = transpose(backend, w2, [1, 0]); // [Co, K]
  const dcols = matmul2d(backend, dy2, wT); // [M, K]
  free(backend, dy2, w2, wT);
  if (isPointwise(g)) {
    const out = reshape(backend, dcols, inputShape);
    free(backend, dcols);
    return out;
  }
  const dx = backend.makeOutput(inputShape, 'float32');
  const dxData = f32(backend, dx);
  dxData.fill(0);
  col2im(g, f32(backend, dcols), dxData);
  free(backend, dcols);
  return dx;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelConfig['kernelFunc'],
};

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelConfig['kernelFunc'],
};
