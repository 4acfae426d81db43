import type { TensorInfo } from '@tensorflow/tfjs';
import { ptr } from './simd.js';
import { parallel } from './parallel.js';
import type { WasmBackend } from './wasm-util.js';

/**
 * a^T b for a [K, M] and b [K, N] row-major: the weight gradient of every 1 x 1 conv, linear layer
 * and im2col conv. Our SIMD kernel (csrc/exp_kernels.c `gemm_tn`) reads both operands as they lie;
 * the XNNPACK route needs a transpose of one operand and a repack of the other, and ran these
 * tall-thin products at 13-35 GFLOP/s against 40-50 here (2 threads, scratch-lead measurements
 * reproduced by `exp bench`). Threads split the larger of M and N.
 */
export function matmulTN(backend: WasmBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  const [k, m] = a.shape as [number, number];
  const [k2, n] = b.shape as [number, number];
  if (k !== k2) throw new Error(`matmulTN: ${k} and ${k2} rows`);
  const out = backend.makeOutput([m, n], 'float32');
  const byRows = m > n ? 1 : 0;
  parallel(backend, 'gemm_tn', byRows ? m : n, [ptr(backend, a), ptr(backend, b), ptr(backend, out), k, m, n, byRows], byRows ? 6 : 8);
  return out;
}
