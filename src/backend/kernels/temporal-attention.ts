import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { ptr, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { parallel } from './parallel.js';

/**
 * TASTgram's temporal attention (§2.1.3) in evaluation mode as one kernel (csrc/exp_kernels.c
 * `tatt_fwd`): x [B, M, T] -> sigmoid(mean_M x + max_M x) x, per clip one read for the column
 * statistics and one for the product. The plain graph is Mean and Max over the middle axis (on
 * wasm each a transpose and a reduction), an Add, a Sigmoid and a broadcast Multiply. The sigmoid
 * goes through the Tanh kernel's tanh4 (within float rounding of tfjs's). Evaluation only: no gradient.
 */
export const TEMPORAL_ATTENTION = 'ExpAsdTemporalAttention';

function forward({ inputs, backend }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { x } = inputs as Record<'x', TensorInfo>;
  const [batch, m, t] = x.shape as [number, number, number];
  const out = b.makeOutput([batch, m, t], 'float32');
  parallel(b, 'tatt_fwd', batch, [ptr(b, x), ptr(b, out), m, t], 1, 1);
  return out;
}

export const temporalAttentionConfig = wasmKernel(TEMPORAL_ATTENTION, forward);

/** True when the kernel applies: wasm with it registered, float32 x [B, M, T] with M >= 1. */
export function temporalAttentionAvailable(x: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(TEMPORAL_ATTENTION, 'wasm')) return false;
  return x.dtype === 'float32' && x.rank === 3 && x.shape[1]! >= 1;
}

/** sigmoid(mean_M x + max_M x) x for x [B, M, T]. */
export function temporalAttentionFused(x: tf.Tensor3D): tf.Tensor3D {
  return tf.engine().runKernel(TEMPORAL_ATTENTION, { x }) as tf.Tensor3D;
}
