import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';
import { ptr, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { parallel } from './parallel.js';

/**
 * FGA-Spec's gated mix out = lm + lambda G (fs - lm) with the rank-one gate G[b, m, t] =
 * gf[b, m] gt[b, t], as one kernel with its own gradient (csrc/exp_kernels.c `gmix_fwd`,
 * `gmix_bwd`). Unfused it is the outer product, four element-wise ops forward and ~9 ops backward
 * over [B, M, T] maps plus two reductions; here one pass each way, in the same order of operations
 * forward (so the same bits), the gate's gradients as float32 sums.
 */
export const GATED_MIX = 'ExpAsdGatedMix';
export const GATED_MIX_GRAD = 'ExpAsdGatedMixGrad';

function floatBits(v: number): number {
  return new Int32Array(new Float32Array([v]).buffer)[0]!;
}

type Ins = Record<'lm' | 'fs' | 'gf' | 'gt', TensorInfo>;

function forward({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { lm, fs, gf, gt } = inputs as Ins;
  const [batch, m, t] = lm.shape as [number, number, number];
  const out = b.makeOutput([...lm.shape], 'float32');
  const args = [ptr(b, lm), ptr(b, fs), ptr(b, gf), ptr(b, gt), ptr(b, out), m, t];
  parallel(b, 'gmix_fwd', batch, [...args, floatBits(attrs?.['lambda'] as number)]);
  return out;
}

function backward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { dy, lm, fs, gf, gt } = inputs as Ins & { dy: TensorInfo };
  const [batch, m, t] = lm.shape as [number, number, number];
  const withLm = Boolean(attrs?.['withLm']);
  const dfs = b.makeOutput([...lm.shape], 'float32');
  const dgf = b.makeOutput([...gf.shape], 'float32');
  const dgt = b.makeOutput([...gt.shape], 'float32');
  const dlm = withLm ? b.makeOutput([...lm.shape], 'float32') : null;
  const args = [ptr(b, dy), ptr(b, lm), ptr(b, fs), ptr(b, gf), ptr(b, gt), ptr(b, dfs), dlm ? ptr(b, dlm) : 0];
  parallel(b, 'gmix_bwd', batch, [...args, ptr(b, dgf), ptr(b, dgt), m, t, floatBits(attrs?.['lambda'] as number)]);
  return dlm ? [dfs, dgf, dgt, dlm] : [dfs, dgf, dgt];
}

export const gatedMixConfig = wasmKernel(GATED_MIX, forward);
export const gatedMixGradConfig = wasmKernel(GATED_MIX_GRAD, backward);

export const gatedMixGradient: GradConfig = {
  kernelName: GATED_MIX,
  inputsToSave: ['lm', 'fs', 'gf', 'gt'],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [lm, fs, gf, gt] = saved as tf.Tensor[];
    const inputs = { dy, lm: lm!, fs: fs!, gf: gf!, gt: gt! };
    const lambda = (attrs as { lambda: number }).lambda;
    const [dfs, dgf, dgt] = tf.engine().runKernel(GATED_MIX_GRAD, inputs, { lambda }) as tf.Tensor[];
    // The log-Mel is an input, not a weight: its gradient is computed only if the tape asks.
    const dlm = () => (tf.engine().runKernel(GATED_MIX_GRAD, inputs, { lambda, withLm: true }) as tf.Tensor[])[3]!;
    return { lm: dlm, fs: () => dfs!, gf: () => dgf!, gt: () => dgt! };
  },
};

/** True when the fused kernel applies: wasm, float32, lm and fs [B, M, T], gf [B, M], gt [B, T]. */
export function fusedGatedMixAvailable(lm: tf.Tensor, fs: tf.Tensor, gf: tf.Tensor, gt: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(GATED_MIX, 'wasm')) return false;
  if ([lm, fs, gf, gt].some((x) => x.dtype !== 'float32') || lm.rank !== 3) return false;
  const [b, m, t] = lm.shape as [number, number, number];
  const eq = tf.util.arraysEqual;
  return eq(fs.shape, lm.shape) && eq(gf.shape, [b, m]) && eq(gt.shape, [b, t]);
}

/** lm + lambda (gf outer gt) (fs - lm) per item, fused. */
export function gatedMixFused(
  lm: tf.Tensor3D,
  fs: tf.Tensor3D,
  gf: tf.Tensor2D,
  gt: tf.Tensor2D,
  lambda: number,
): tf.Tensor3D {
  return tf.engine().runKernel(GATED_MIX, { lm, fs, gf, gt }, { lambda }) as tf.Tensor3D;
}
