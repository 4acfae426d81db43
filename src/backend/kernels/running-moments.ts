import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { f32, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';

/**
 * A BatchNorm's running-statistic update, PyTorch's running = (1 - momentum) running + momentum
 * batch (the variance unbiased), as one kernel: as tfjs ops it was 7 ops and 4 scalar uploads per
 * BatchNorm, ~175 engine calls a FGASpecNet step for 25 small vectors. The same float32
 * operations in the same order as those ops (each product and sum rounded to float32; a float64
 * product or sum of two float32 values rounds to float32 exactly as float32 arithmetic does), so
 * the same bits:
 *   mean' = fl(fl(mean * fl(1 - momentum)) + fl(batchMean * fl(momentum)))
 *   var'  = fl(fl(var * fl(1 - momentum)) + fl(fl(batchVar * fl(varScale)) * fl(momentum / (count - 1))))
 * where batchVar * varScale is the sum of squared deviations (varScale = count for a biased
 * variance, 1 when the input already is that sum).
 */
export const RUNNING_MOMENTS = 'ExpAsdRunningMoments';

export interface RunningMomentsAttrs {
  momentum: number;
  /** Values per channel behind the batch moments (the unbiased variance divides by count - 1). */
  count: number;
  /** What batchVar is multiplied by to give the sum of squared deviations. */
  varScale: number;
}

function update({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { runningMean, runningVar, mean, variance } = inputs as Record<
    'runningMean' | 'runningVar' | 'mean' | 'variance',
    TensorInfo
  >;
  const { momentum, count, varScale } = attrs as unknown as RunningMomentsAttrs;
  const n = sizeOf(runningMean.shape);
  const outMean = b.makeOutput([...runningMean.shape], 'float32');
  const outVar = b.makeOutput([...runningVar.shape], 'float32');
  const [rm, rv, bm, bv, om, ov] = [runningMean, runningVar, mean, variance, outMean, outVar].map((t) => f32(b, t)) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const keep = Math.fround(1 - momentum);
  const mom = Math.fround(momentum);
  const unbiased = Math.fround(momentum / (count - 1));
  const scale = Math.fround(varScale);
  for (let i = 0; i < n; i++) {
    om[i] = Math.fround(rm[i]! * keep) + Math.fround(bm[i]! * mom);
    ov[i] = Math.fround(rv[i]! * keep) + Math.fround(Math.fround(bv[i]! * scale) * unbiased);
  }
  return [outMean, outVar];
}

export const runningMomentsConfig = wasmKernel(RUNNING_MOMENTS, update);

/** True when the kernel applies: wasm, float32 vectors of one size. */
export function fusedRunningMomentsAvailable(...ts: tf.Tensor[]): boolean {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(RUNNING_MOMENTS, 'wasm')) return false;
  return ts.every((t) => t.dtype === 'float32' && t.size === ts[0]!.size);
}

/** The updated running mean and variance (new tensors; nothing is assigned). */
export function runningMoments(
  runningMean: tf.Tensor,
  runningVar: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  attrs: RunningMomentsAttrs,
): [tf.Tensor, tf.Tensor] {
  const inputs = { runningMean, runningVar, mean, variance };
  return tf.engine().runKernel(RUNNING_MOMENTS, inputs, { ...attrs }) as [tf.Tensor, tf.Tensor];
}
