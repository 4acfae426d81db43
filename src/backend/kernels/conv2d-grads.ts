import type { TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, withHeapGeometry, type ConvGeometry } from './conv-geometry.js';
import { ptr, free, reshape, transpose, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { parallel } from './parallel.js';
import { matmulNN, matmulTN } from './gemm.js';

/**
 * Conv2D gradients as im2col + one matmul, with the patch gather / scatter as SIMD passes
 * (csrc/exp_kernels.c `im2col` / `col2im`; the JS loops they replace took ~30 ms a step). tfjs-backend-wasm has no
 * Conv2DBackpropFilter at all and its Conv2DBackpropInput is a scalar C loop
 * (measured on tfjs-backend-wasm 4.22, docs/backend.md). Rows of the patch matrix are output pixels (n, y, x); columns are
 * (ky, kx, c), the row-major order of a filter [kh, kw, Cin, Cout] seen as [kh*kw*Cin, Cout].
 */

/** Runs csrc/exp_kernels.c's im2col / col2im with the geometry passed in heap scratch. */
function patches(
  backend: WasmBackend,
  g: ConvGeometry,
  name: 'im2col' | 'col2im',
  from: TensorInfo,
  to: TensorInfo,
): void {
  withHeapGeometry(backend, g, (geo) => {
    // im2col fills rows of the patch matrix; col2im scatters into whole images.
    const count = name === 'im2col' ? g.n * g.ho * g.wo : g.n;
    parallel(backend, name, count, [ptr(backend, from), ptr(backend, to), geo], 1, name === 'im2col' ? 512 : 1);
  });
}

function isPointwise(g: ConvGeometry): boolean {
  return (
    g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.top === 0 && g.left === 0 && g.ho === g.h && g.wo === g.w
  );
}

/** dW [kh, kw, Cin, Cout] = cols^T dy. */
function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
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
    patches(backend, g, 'im2col', x, cols);
  }
  const result = matmulTN(backend, cols, dy2); // [K, Co]
  free(backend, dy2, cols);
  const out = reshape(backend, result, filterShape);
  free(backend, result);
  return out;
}

/** dx = col2im(dy W^T): one matmul against the small transposed filter, then a scatter-add. */
function conv2DBackpropInput(args: KernelArgs): TensorInfo {
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
  const dcols = matmulNN(backend, dy2, wT); // [M, K]
  free(backend, dy2, w2, wT);
  if (isPointwise(g)) {
    const out = reshape(backend, dcols, inputShape);
    free(backend, dcols);
    return out;
  }
  const dx = backend.makeOutput(inputShape, 'float32');
  patches(backend, g, 'col2im', dcols, dx);
  free(backend, dcols);
  return dx;
}

export const conv2DBackpropFilterConfig = wasmKernel('Conv2DBackpropFilter', conv2DBackpropFilter);
export const conv2DBackpropInputConfig = wasmKernel('Conv2DBackpropInput', conv2DBackpropInput);
