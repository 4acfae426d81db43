import type { TensorInfo } from '@tensorflow/tfjs';
import { parallel } from './parallel.js';
import { ptr, type WasmBackend } from './wasm-util.js';

/**
 * a b for a [M, K] and b [K, N] row-major (csrc/exp_kernels.c `gemm_nn`, 4 x 8 register tiles):
 * every forward 1 x 1 conv, linear layer and input gradient. Faster than XNNPACK's fully-connected
 * path here (it repacks b whenever b changes, i.e. every training step): 65-85 GFLOP/s against
 * 40-55 on the step's shapes with relaxed SIMD, about even without (2 threads). Threads split M.
 */
export function matmulNN(backend: WasmBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  const [m, k] = a.shape as [number, number];
  const [k2, n] = b.shape as [number, number];
  if (k !== k2) throw new Error(`matmulNN: inner sizes ${k} and ${k2}`);
  const out = backend.makeOutput([m, n], 'float32');
  parallel(
    backend,
    'gemm_nn',
    m,
    [ptr(backend, a), ptr(backend, b), ptr(backend, out), k, n],
    4,
    Math.max(4, Math.ceil(4096 / Math.max(n, 1))),
  );
  return out;
}

/**
 * a^T b for a [K, M] and b [K, N] row-major: the weight gradient of every 1 x 1 conv, linear layer
 * and im2col conv. Our SIMD kernel (csrc/exp_kernels.c `gemm_tn`) reads both operands as they lie;
 * the XNNPACK route needs a transpose of one operand and a repack of the other, and ran these
 * tall-thin products at 13-35 GFLOP/s against 55-70 here (2 threads, relaxed SIMD). Threads
 * split the larger of M and N.
 */
export function matmulTN(backend: WasmBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  const [k, m] = a.shape as [number, number];
  const [k2, n] = b.shape as [number, number];
  if (k !== k2) throw new Error(`matmulTN: ${k} and ${k2} rows`);
  const out = backend.makeOutput([m, n], 'float32');
  const byRows = m > n ? 1 : 0;
  parallel(
    backend,
    'gemm_tn',
    byRows ? m : n,
    [ptr(backend, a), ptr(backend, b), ptr(backend, out), k, m, n, byRows],
    byRows ? 4 : 8,
  );
  return out;
}
