import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { ptr, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { f32At, withScratch } from './simd.js';
import { parallel } from './parallel.js';

/**
 * A fused AdamW update on wasm (csrc/exp_kernels.c `adamw`): one pass instead of the twelve
 * element-wise tfjs ops per parameter the generic update runs (~1,100 kernel calls a step for
 * FGASpecNet). Same formula as src/train/adamw.ts; results agree to float32 rounding.
 */
export const ADAMW_UPDATE = 'ExpAsdAdamW';

export interface AdamWHyper {
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 - lr * weightDecay (decoupled decay), or 1. */
  decay: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** 1 - beta2^t. */
  bc2: number;
}

function update({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { p, m, v, g } = inputs as Record<'p' | 'm' | 'v' | 'g', TensorInfo>;
  const h = attrs as unknown as AdamWHyper;
  const outs = [p, m, v].map((t) => b.makeOutput([...t.shape], 'float32'));
  const n = sizeOf(p.shape);
  withScratch(b, 24, (at) => {
    f32At(b, at, 6).set([h.beta1, h.beta2, h.eps, h.decay, h.stepSize, h.bc2]);
    parallel(b, 'adamw', n, [ptr(b, p), ptr(b, m), ptr(b, v), ptr(b, g), ...outs.map((o) => ptr(b, o)), at], 4, 65536);
  });
  return outs;
}

export const adamwConfig = wasmKernel(ADAMW_UPDATE, update);

/** [p', m', v'] from the fused kernel, or null where it is not available (other backends, dtypes). */
export function fusedAdamW(
  p: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  hyper: AdamWHyper,
): tf.Tensor[] | null {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(ADAMW_UPDATE, 'wasm')) return null;
  if ([p, m, v, g].some((t) => t.dtype !== 'float32' || t.size !== p.size)) return null;
  return tf.engine().runKernel(ADAMW_UPDATE, { p, m, v, g }, hyper as unknown as NamedAttrMap) as tf.Tensor[];
}
