import type { TensorInfo } from '@tensorflow/tfjs';
import { parallel } from './parallel.js';
import { withScratch } from './simd.js';
import { f32, ptr, type WasmBackend } from './wasm-util.js';

/** Rows of a below which packing b costs more than it saves (linear layers over a few clips). */
const PACK_MIN_ROWS = 16;

/** Heap pointers (or 0) of the product's epilogue: per-column bias, PReLU slopes, a residual. */
interface GemmEpilogue {
  bias: number;
  alpha: number;
  res: number;
}
const NO_EPILOGUE: GemmEpilogue = { bias: 0, alpha: 0, res: 0 };

/**
 * C = prelu(a b + bias) + res over rows of `out` (csrc/exp_kernels.c): b packed into contiguous
 * 8-column strips first (`pack_strips`, then `gemm_nn_p`; the last strip zero-padded when N is not
 * a multiple of 8, as the DFT's N = 313) when a has enough rows, else read as it lies
 * (`gemm_nn_ep`). bias, alpha, res are heap pointers or 0. Threads split the rows.
 */
export function gemmNN(
  backend: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  out: TensorInfo,
  epilogue: GemmEpilogue = NO_EPILOGUE,
): void {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const { bias, alpha, res } = epilogue;
  if (!packs(m, k, n)) {
    const args = [ptr(backend, a), ptr(backend, b), ptr(backend, out), k, n, bias, alpha, res];
    parallel(backend, 'gemm_nn_ep', m, args, 4, minRowsOf(n));
    return;
  }
  packedProduct(backend, a, out, k, n, epilogue, (bp, strips) =>
    parallel(backend, 'pack_strips', strips, [ptr(backend, b), bp, k, n, 8, n], 1, 8),
  );
}

/** Whether packing b into strips pays: enough rows of a, one whole strip, K > 0. */
function packs(m: number, k: number, n: number): boolean {
  return m >= PACK_MIN_ROWS && n >= 8 && k > 0;
}

/** Rows of a per thread chunk: at least 4, and ~4096 outputs. */
function minRowsOf(n: number): number {
  return Math.max(4, Math.ceil(4096 / Math.max(n, 1)));
}

/**
 * out = prelu(a B + bias) + res by `gemm_nn_p` over B's 8-column strips, which `pack` writes into
 * the scratch at bp first (ceil(N / 8) strips of K x 8 floats, the last zero-padded).
 */
function packedProduct(
  backend: WasmBackend,
  a: TensorInfo,
  out: TensorInfo,
  k: number,
  n: number,
  epilogue: GemmEpilogue,
  pack: (bp: number, strips: number) => void,
): void {
  const m = a.shape[0]!;
  const strips = Math.ceil(n / 8);
  const { bias, alpha, res } = epilogue;
  withScratch(
    backend,
    strips * k * 32,
    (bp) => {
      pack(bp, strips);
      const args = [ptr(backend, a), bp, ptr(backend, out), k, n, bias, alpha, res];
      parallel(backend, 'gemm_nn_p', m, args, 4, minRowsOf(n));
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
 * a b^T for a [M, K] and b [N, K] row-major: the input gradient of every 1 x 1 conv and linear
 * layer. b^T is packed straight from b (`pack_strips_t`, two 4 x 4 transposes per four k of eight
 * rows), then `gemm_nn_p` as for a b: the same packed strips, so the same bits, as transposing b
 * first, which cost a Transpose kernel and a second pass (3-11 % of these products at one thread).
 * Returns null where gemmNN would not pack (few rows of a, N < 8): the caller transposes.
 */
export function matmulNT(backend: WasmBackend, a: TensorInfo, b: TensorInfo): TensorInfo | null {
  const [m, k] = a.shape as [number, number];
  const [n, k2] = b.shape as [number, number];
  if (k !== k2) throw new Error(`matmulNT: inner sizes ${k} and ${k2}`);
  if (!packs(m, k, n)) return null;
  const out = backend.makeOutput([m, n], 'float32');
  packedProduct(backend, a, out, k, n, NO_EPILOGUE, (bp, strips) =>
    parallel(backend, 'pack_strips_t', strips, [ptr(backend, b), bp, k, k, n], 1, 8),
  );
  return out;
}

/** K rows gemm_tn_ks packs at a time (csrc/exp_kernels.c's KC). */
const KC = 128;
export const TN_KC = KC;
/** Tasks gemm_tn_ks aims for: enough to balance 2-4 threads, few enough partials to add up. */
const TN_TASKS = 8;
/** Fewest K rows per chunk of gemm_tn_ks (each chunk's M x N partial is written and read once more). */
const TN_MIN_CHUNK = 512;
/** Fewest rows or columns per range of gemm_tn_ks (each range packs the other operand's slice again). */
const TN_MIN_PART = 128;

/** How gemm_tn_ks cuts a^T b (a [K, M], b [K, N]): a function of the shape alone, never of the thread count. */
export interface TnPlan {
  /** K rows per chunk, and the number of chunks (each but the first has its own M x N partial). */
  ks: number;
  chunks: number;
  /** Ranges of the larger of M (byRows) and N per chunk. */
  parts: number;
  byRows: boolean;
  /** Pack each task's operands into strips (else tiles read them as they lie). */
  pack: boolean;
}

export function tnPlan(k: number, m: number, n: number): TnPlan {
  const byRows = m > n;
  // Packing pays where the copy is small against the product: 2 m n / (m + n) multiply-adds per
  // copied float (one thread, CPU time: 64 x 128 gained 6 %, 36 x 64 lost 5-10 %).
  const pack = m >= 4 && n >= 8 && (2 * m * n) / (m + n) >= 64;
  let chunks = Math.min(TN_TASKS, Math.max(1, Math.floor(k / TN_MIN_CHUNK)));
  const ks = Math.ceil(k / chunks);
  chunks = Math.ceil(k / ks);
  const dim = byRows ? m : n;
  const parts =
    chunks >= TN_TASKS ? 1 : Math.max(1, Math.min(Math.ceil(TN_TASKS / chunks), Math.floor(dim / TN_MIN_PART)));
  return { ks, chunks, parts, byRows, pack };
}

/**
 * a^T b for a [K, M] and b [K, N] row-major: the weight gradient of every 1 x 1 conv, linear layer
 * and im2col conv, where K (pixels) is large and M x N small. `gemm_tn_ks` cuts K into chunks of a
 * fixed size (tnPlan: from the shape only) with an M x N partial each, added in chunk order by
 * `sum_parts`, so two threads share the pass over K instead of each re-reading one operand whole;
 * each task packs its slices of both operands into strips as it goes (they stay in cache). Results
 * are bit-identical at any thread count. Small products (K < 512, M and N too small to pack) go to
 * the plain `gemm_tn`, threads splitting the larger of M and N. The XNNPACK route needs a
 * transpose of one operand and a repack of the other, and ran these at 13-35 GFLOP/s.
 */
export function matmulTN(backend: WasmBackend, a: TensorInfo, b: TensorInfo): TensorInfo {
  const [k, m] = a.shape as [number, number];
  const [k2, n] = b.shape as [number, number];
  if (k !== k2) throw new Error(`matmulTN: ${k} and ${k2} rows`);
  const out = backend.makeOutput([m, n], 'float32');
  if (k === 0 || m === 0 || n === 0) {
    f32(backend, out).fill(0);
    return out;
  }
  const [pa, pb, pc] = [ptr(backend, a), ptr(backend, b), ptr(backend, out)];
  const plan = tnPlan(k, m, n);
  const byRows = plan.byRows ? 1 : 0;
  if (plan.chunks === 1 && !plan.pack) {
    parallel(backend, 'gemm_tn', byRows ? m : n, [pa, pb, pc, k, m, n, byRows], byRows ? 4 : 8);
    return out;
  }
  const tasks = plan.chunks * plan.parts;
  const partials = (plan.chunks - 1) * m * n;
  const work = plan.pack ? tasks * KC * (m + n + 12) : 0;
  withScratch(
    backend,
    4 * Math.max(4, partials + work),
    (p) => {
      const w = p + 4 * partials;
      const args = [pa, pb, pc, p, w, k, m, n, plan.ks, plan.parts, byRows, plan.pack ? 1 : 0];
      parallel(backend, 'gemm_tn_ks', tasks, args, 1, 1, tasks);
      if (plan.chunks > 1) parallel(backend, 'sum_parts', m * n, [pc, p, plan.chunks - 1, m * n], 4, 16384);
    },
    false,
  );
  return out;
}

/**
 * Both gradients of a 1 x 1 conv y = x w (x [P, Ci] pixels, w [Ci, Co], dy [P, Co]) in one pass
 * over dy (`pw_grads`, csrc/exp_kernels.c): dw = x^T dy as matmulTN's `gemm_tn_ks` grid and dx =
 * dy w^T as matmulNT's `gemm_nn_p` over w^T's packed strips, each task computing dx for the pixel
 * rows it packs for dw just before it packs them. The same sums as the two products: the same
 * bits. Returns null where either would not take that path (few pixels, the plain gemm_tn, or no
 * packing for matmulNT): the caller runs the two products.
 */
export function pointwiseGrads(
  backend: WasmBackend,
  x: TensorInfo,
  w: TensorInfo,
  dy: TensorInfo,
): [TensorInfo, TensorInfo] | null {
  const [p, ci] = x.shape as [number, number];
  const co = w.shape[1]!;
  if (p === 0 || ci === 0 || co === 0 || !packs(p, co, ci)) return null;
  const plan = tnPlan(p, ci, co);
  if (plan.chunks === 1 && !plan.pack) return null;
  const dx = backend.makeOutput([p, ci], 'float32');
  const dw = backend.makeOutput([ci, co], 'float32');
  const strips = Math.ceil(ci / 8);
  const tasks = plan.chunks * plan.parts;
  const partials = (plan.chunks - 1) * ci * co;
  const work = plan.pack ? tasks * KC * (ci + co + 12) : 0;
  withScratch(
    backend,
    strips * co * 32 + 4 * Math.max(4, partials + work),
    (wt) => {
      parallel(backend, 'pack_strips_t', strips, [ptr(backend, w), wt, co, co, ci], 1, 8);
      const parts = wt + strips * co * 32;
      const io = [ptr(backend, x), ptr(backend, dy), wt, ptr(backend, dx), ptr(backend, dw), parts];
      const args = [
        ...io,
        parts + 4 * partials,
        p,
        ci,
        co,
        plan.ks,
        plan.parts,
        plan.byRows ? 1 : 0,
        plan.pack ? 1 : 0,
      ];
      parallel(backend, 'pw_grads', tasks, args, 1, 1, tasks);
      if (plan.chunks > 1)
        parallel(backend, 'sum_parts', ci * co, [ptr(backend, dw), parts, plan.chunks - 1, ci * co], 4, 16384);
    },
    false,
  );
  return [dx, dw];
}
