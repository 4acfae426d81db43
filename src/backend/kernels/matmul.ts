import type { TensorInfo } from '@tensorflow/tfjs';
import { f32, free, reshape, run, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { matmulNN, matmulNT, matmulTN } from './gemm.js';
import { transpose } from './layout.js';

/**
 * BatchMatMul for wasm. The original is fast (XNNPACK fully-connected) only for one plain
 * [m, k] x [k, n] product; with a transpose flag or a batch it falls back to a scalar loop about
 * 10x slower (measured). Every case is rewritten into our SIMD GEMMs (gemm.ts), which also beat
 * XNNPACK's plain product here (no repacking of a right operand that changes every step):
 *  - a b by gemm_nn, a^T b by gemm_tn straight from both operands;
 *  - a b^T by gemm_nn over strips packed from b directly (an explicit transpose for small a);
 *  - a batch with a broadcast right operand is one tall product; otherwise one product per batch.
 */

/** One 2-D product with optional transposes, as plain products. */
function product2d(backend: WasmBackend, a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean): TensorInfo {
  if (!ta && !tb) return matmulNN(backend, a, b);
  if (ta && tb) {
    // a^T b^T = (b a)^T
    const ba = matmulNN(backend, b, a);
    const out = transpose(backend, ba, [1, 0]);
    free(backend, ba);
    return out;
  }
  if (tb) {
    const direct = matmulNT(backend, a, b);
    if (direct) return direct;
    const bT = transpose(backend, b, [1, 0]);
    const out = matmulNN(backend, a, bT);
    free(backend, bT);
    return out;
  }
  return matmulTN(backend, a, b);
}

/** A [rows, cols] copy of batch `i` of a [batch, rows, cols] tensor (or the tensor itself if batch 1). */
function slice(backend: WasmBackend, t: TensorInfo, batch: number, i: number): TensorInfo {
  const [, r, c] = t.shape as [number, number, number];
  if (batch === 1) return reshape(backend, t, [r, c]);
  const out = backend.makeOutput([r, c], 'float32');
  f32(backend, out).set(f32(backend, t).subarray(i * r * c, (i + 1) * r * c));
  return out;
}

export function batchMatMul(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const ta = Boolean(args.attrs?.['transposeA']);
  const tb = Boolean(args.attrs?.['transposeB']);
  const ra = a.shape.length;
  const rb = b.shape.length;
  const aOuter = a.shape.slice(0, -2);
  const bOuter = b.shape.slice(0, -2);
  const batchA = sizeOf(aOuter);
  const batchB = sizeOf(bOuter);
  const am = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const ak = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const bn = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const bk = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  if (ak !== bk)
    throw new Error(`matMul: inner dimensions ${ak} and ${bk} of shapes [${a.shape}] and [${b.shape}] differ`);
  const outer = aOuter.length >= bOuter.length ? aOuter : bOuter;
  const outShape = [...outer, am, bn];
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || (batchA !== batchB && batchA !== 1 && batchB !== 1)) {
    return run(backend, 'BatchMatMul', args.inputs, args.attrs);
  }
  const a3 = reshape(backend, a, [batchA, a.shape[ra - 2]!, a.shape[ra - 1]!]);
  const b3 = reshape(backend, b, [batchB, b.shape[rb - 2]!, b.shape[rb - 1]!]);
  let result: TensorInfo;
  if (batchB === 1 && !ta) {
    // Broadcast right operand: stack the left batch into one tall matrix.
    const aTall = reshape(backend, a3, [batchA * am, ak]);
    const b2 = reshape(backend, b3, [b3.shape[1]!, b3.shape[2]!]);
    result = product2d(backend, aTall, b2, false, tb);
    free(backend, aTall, b2);
  } else {
    const batch = Math.max(batchA, batchB);
    result = backend.makeOutput([batch, am, bn], 'float32');
    for (let i = 0; i < batch; i++) {
      const ai = slice(backend, a3, batchA, batchA === 1 ? 0 : i);
      const bi = slice(backend, b3, batchB, batchB === 1 ? 0 : i);
      const p = product2d(backend, ai, bi, ta, tb);
      f32(backend, result).set(f32(backend, p), i * am * bn);
      free(backend, ai, bi, p);
    }
  }
  free(backend, a3, b3);
  const out = reshape(backend, result, outShape);
  free(backend, result);
  return out;
}

export const batchMatMulConfig = wasmKernel('BatchMatMul', batchMatMul);
