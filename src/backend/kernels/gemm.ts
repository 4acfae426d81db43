import type { TensorInfo } from '@tensorflow/tfjs';
import { parallel } from './parallel.js';
import { withScratch } from './simd.js';
import { f32, ptr, type WasmBackend } from './wasm-util.js';

/** Rows of a below which packing b costs more than it saves (linear layers over a few clips). */
const PACK_MIN_ROWS = 16;

/**
 * C = prelu(a b + bias) + res over rows of `out` (csrc/exp_kernels.c): b packed into contiguous
 * 8-column strips first (`pack_strips`, then `gemm_nn_p`) when a has enough rows, else read as it
 * lies (`gemm_nn_ep`). bias, alpha, res are heap pointers or 0. Threads split the rows.
 */
export function gemmNN(
  backend: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  out: TensorInfo,
  epilogue: { bias: number; alpha: number; res: number } = { bias: 0, alpha: 0, res: 0 },
): void {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const minRows = Math.max(4, Math.ceil(4096 / Math.max(n, 1)));
  const { bias, alpha, res } = epilogue;
  const strips = Math.floor(n / 8);
  if (m < PACK_MIN_ROWS || strips === 0 || k === 0) {
    parallel(
      backend,
      'gemm_nn_ep',
      m,
      [ptr(backend, a), ptr(backend, b), ptr(backend, out), k, n, bias, alpha, res],
      4,
      minRows,
    );
    return;
  }
  withScratch(
    backend,
    strips * k * 32,
    (bp) => {
      parallel(backend, 'pack_strips', strips, [ptr(backend, b), bp, k, n, 8], 1, 8);
      parallel(
        backend,
        'gemm_nn_p',
        m,
        [ptr(backend, a), bp, ptr(backend, b), ptr(backend, out), k, n, bias, alpha, res],
        4,
        minRows,
      );
    },
    false,
  );
}

/**
 * a b for a [M, K] and b [K, N] row-major (csrc/exp_kernels.c, 4 x 8 register tiles over a packed
 * b): every forward 1 x 1 conv, linear layer and input gradient. Faster than XNNPACK's
 * fully-connected path here (it repacks b whenever b changes, i.e. every training step): 65-85
 * GFLOP/s against 40-55 on the step's shapes with relaxed SIMD, about even without (2 threads).
 */
export function matmulNN(backend: WasmBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  const [m, k] = a.shape as [number, number];
  const [k2, n] = b.shape as [number, number];
  if (k !== k2) throw new Error(`matmulNN: inner sizes ${k} and ${k2}`);
  const out = backend.makeOutput([m, n], 'float32');
  if (k === 0) {
    // The kernels store nothing when K = 0: an empty sum is a zero matrix.
    f32(backend, out).fill(0);
    return out;
  }
  gemmNN(backend, a, b, out);
  return out;
}

/**
 * a^T b for a [K, M] and b [K, N] row-major: the weight gradient of every 1 x 1 conv, linear layer
 * and im2col conv. Our SIMD kernel reads both operands as they lie (`gemm_tn`), or packs both into
 * contiguous strips first (`gemm_tn_p`) where the copy is small against the product (2 M N /
 * (M + N) >= 128 multiply-adds per copied float); the XNNPACK route needs a transpose of one
 * operand and a repack of the other, and ran these tall-thin products at 13-35 GFLOP/s against
 * 55-70 unpacked (2 threads, relaxed SIMD). Threads split the larger of M and N.
 */
export function matmulTN(backend: WasmBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  const [k, m] = a.shape as [number, number];
  const [k2, n] = b.shape as [number, number];
  if (k !== k2) throw new Error(`matmulTN: ${k} and ${k2} rows`);
  const out = backend.makeOutput([m, n], 'float32');
  const byRows = m > n ? 1 : 0;
  const [pa, pb, pc] = [ptr(backend, a), ptr(backend, b), ptr(backend, out)];
  const [rowStrips, colStrips] = [Math.floor(m / 4), Math.floor(n / 8)];
  if (k === 0 || rowStrips === 0 || colStrips === 0 || (2 * m * n) / (m + n) < 128) {
    parallel(backend, 'gemm_tn', byRows ? m : n, [pa, pb, pc, k, m, n, byRows], byRows ? 4 : 8);
    return out;
  }
  withScratch(
    backend,
    4 * k * (4 * rowStrips + 8 * colStrips),
    (ap) => {
      const bp = ap + 16 * k * rowStrips;
      parallel(backend, 'pack_strips', rowStrips, [pa, ap, k, m, 4], 1, 8);
      parallel(backend, 'pack_strips', colStrips, [pb, bp, k, n, 8], 1, 8);
      parallel(backend, 'gemm_tn_p', byRows ? m : n, [ap, bp, pa, pb, pc, k, m, n, byRows], byRows ? 4 : 8);
    },
    false,
  );
  return out;
}
