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

/**
 * The same update for a group of parameters in one kernel call (inputs p0, m0, v0, g0, p1, ...;
 * attrs.hyper: six numbers per parameter in AdamWHyper's order), outputs [p0', m0', v0', p1', ...].
 * Each parameter runs the very `adamw` pass ExpAsdAdamW runs, so the bits are the same; one call
 * instead of ~100 saves tfjs's per-kernel bookkeeping and a scratch allocation per parameter.
 */
export const ADAMW_GROUP = 'ExpAsdAdamWGroup';

function updateGroup({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const hyper = (attrs as { hyper: number[] }).hyper;
  const count = hyper.length / 6;
  const at = (k: string, i: number) => inputs[`${k}${i}`]!;
  const outs: TensorInfo[] = [];
  for (let i = 0; i < count; i++)
    for (const k of ['p', 'm', 'v']) outs.push(b.makeOutput([...at(k, i).shape], 'float32'));
  withScratch(b, 24 * count, (h) => {
    f32At(b, h, 6 * count).set(hyper);
    for (let i = 0; i < count; i++) {
      const ins = ['p', 'm', 'v', 'g'].map((k) => ptr(b, at(k, i)));
      const o = outs.slice(3 * i, 3 * i + 3).map((t) => ptr(b, t));
      parallel(b, 'adamw', sizeOf(at('p', i).shape), [...ins, ...o, h + 24 * i], 4, 65536);
    }
  });
  return outs;
}

export const adamwGroupConfig = wasmKernel(ADAMW_GROUP, updateGroup);

export interface AdamWGroupEntry {
  p: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  g: tf.Tensor;
  hyper: AdamWHyper;
}

/** True when the fused kernels can update this parameter (wasm, float32, matching sizes). */
export function fusedAdamWServes(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(ADAMW_GROUP, 'wasm')) return false;
  return [p, m, v, g].every((t) => t.dtype === 'float32' && t.size === p.size);
}

/** [p', m', v'] per entry from one ExpAsdAdamWGroup call; every entry must be fusedAdamWServes. */
export function fusedAdamWGroup(entries: readonly AdamWGroupEntry[]): tf.Tensor[][] {
  if (entries.length === 0) return [];
  const inputs: tf.NamedTensorMap = {};
  const hyper: number[] = [];
  entries.forEach((e, i) => {
    Object.assign(inputs, { [`p${i}`]: e.p, [`m${i}`]: e.m, [`v${i}`]: e.v, [`g${i}`]: e.g });
    const h = e.hyper;
    hyper.push(h.beta1, h.beta2, h.eps, h.decay, h.stepSize, h.bc2);
  });
  const outs = tf.engine().runKernel(ADAMW_GROUP, inputs, { hyper }) as tf.Tensor[];
  return entries.map((_, i) => outs.slice(3 * i, 3 * i + 3));
}

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
