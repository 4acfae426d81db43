import type { TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, withHeapGeometry, type ConvGeometry } from './conv-geometry.js';
import { ptr, free, reshape, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { transpose } from './layout.js';
import { parallel } from './parallel.js';
import { matmulNN, matmulTN, tnPlan, TN_KC } from './gemm.js';
import { withScratch } from './simd.js';

/**
 * Conv2D gradients as im2col + one matmul, with the patch gather / scatter as SIMD passes
 * (csrc/exp_kernels.c `im2col` / `col2im`; the JS loops they replace took ~30 ms a step). tfjs-backend-wasm has no
 * Conv2DBackpropFilter at all and its Conv2DBackpropInput is a scalar C loop
 * (measured on tfjs-backend-wasm 4.22, docs/backend.md). Rows of the patch matrix are output pixels (n, y, x); columns are
 * (ky, kx, c), the row-major order of a filter [kh, kw, Cin, Cout] seen as [kh*kw*Cin, Cout].
 * Where the weight gradient's product runs unpacked over the patch matrix (the stem: k = 36), the
 * matrix is never written whole: `conv_dw_ks` builds it a block of rows at a time in cache and
 * runs the same products in the same order (the same bits as im2col + matmulTN).
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
  if (!isPointwise(g) && !tnPlan(m, k, g.co).pack) return filterByBlocks(backend, x, dy, g, filterShape);
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

/**
 * dW = cols^T dy with the task grid of matmulTN's unpacked path (gemm_tn_ks: tnPlan), each task
 * writing KC rows of the patch matrix at a time into its own scratch; partials added by sum_parts.
 */
function filterByBlocks(
  backend: WasmBackend,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  filterShape: [number, number, number, number],
): TensorInfo {
  const m = g.n * g.ho * g.wo;
  const k = g.kh * g.kw * g.ci;
  const plan = tnPlan(m, k, g.co);
  const out = backend.makeOutput(filterShape, 'float32');
  const tasks = plan.chunks * plan.parts;
  const partials = (plan.chunks - 1) * k * g.co;
  withScratch(
    backend,
    4 * (partials + tasks * TN_KC * k),
    (p) => {
      const w = p + 4 * partials;
      withHeapGeometry(backend, g, (geo) => {
        const args = [ptr(backend, x), ptr(backend, dy), ptr(backend, out), p, w, geo, g.co, plan.ks, plan.parts];
        parallel(backend, 'conv_dw_ks', tasks, [...args, plan.byRows ? 1 : 0], 1, 1, tasks);
      });
      if (plan.chunks > 1)
        parallel(backend, 'sum_parts', k * g.co, [ptr(backend, out), p, plan.chunks - 1, k * g.co], 4, 16384);
    },
    false,
  );
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
  if (gatherServed(g) && filter.dtype === 'float32') return inputByGather(backend, dy, filter, g);
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

/** The stem's geometry, whose input gradient conv_c4_dx gathers: 3 x 3, 4 input channels, strides >= 2, no dilation. */
function gatherServed(g: ConvGeometry): boolean {
  return (
    g.ci === 4 &&
    g.co % 4 === 0 &&
    g.kh === 3 &&
    g.kw === 3 &&
    g.sh >= 2 &&
    g.sw >= 2 &&
    g.dh === 1 &&
    g.dw === 1 &&
    g.top >= 0 &&
    g.left >= 0
  );
}

/**
 * dx by conv_c4_dx straight from the filter [3, 3, 4, Co]: each input pixel's at most 2 x 2 taps
 * of W[ky, kx] dy summed in registers and stored once; input rows split over threads.
 */
function inputByGather(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const dx = backend.makeOutput([g.n, g.h, g.w, g.ci], 'float32');
  withHeapGeometry(backend, g, (geo) => {
    parallel(
      backend,
      'conv_c4_dx',
      g.n * g.h,
      [ptr(backend, dy), ptr(backend, filter), ptr(backend, dx), g.co, geo],
      1,
      4,
    );
  });
  return dx;
}

export const conv2DBackpropFilterConfig = wasmKernel('Conv2DBackpropFilter', conv2DBackpropFilter);
export const conv2DBackpropInputConfig = wasmKernel('Conv2DBackpropInput', conv2DBackpropInput);
