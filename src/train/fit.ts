import * as tf from '@tensorflow/tfjs';
import { makeInputs } from './batch.js';
import type { Split } from './loop.js';
import type { AsdSystem } from '../systems/types.js';
import { trainedParams } from './step.js';
import { deviceBindingLimit, formatMib, largestStorageBuffer } from '../backend/gpu-guard.js';
import { UserError } from '../util/errors.js';

/** Clips per evaluation batch on a GPU when they fit (forward only, no gradients kept). */
const GPU_EVAL_BATCH = 64;

export interface DeviceFit {
  /** Clips per training micro-batch. */
  micro: number;
  /** Clips per validation / scoring batch. */
  evalBatch: number;
  /** Largest storage buffer of the 2-clip probe, bytes. */
  probeBytes: number;
  /** The device's storage binding limit, bytes. */
  limit: number;
  /** Said to the user when the micro-batch was lowered to fit. */
  note: string | null;
}

/**
 * Checks, before training starts, that a (micro-)batch fits the WebGPU device's storage binding
 * limit (on other backends: null, nothing to check). One forward and backward pass of 2 training
 * clips (evaluation mode, so nothing is updated and Glow's actnorm is not initialised; the shapes
 * are those of a training step) measures the largest storage buffer; activations and their
 * gradients grow linearly with the clips, so a micro-batch of m clips needs about m / 2 times as
 * much. Weight-sized buffers do not grow, which makes the estimate conservative. A micro-batch
 * set in the config that does not fit is refused; an automatic one is lowered, and said so.
 */
export async function fitDevice(
  system: AsdSystem,
  train: Split,
  wanted: number,
  explicit: boolean,
): Promise<DeviceFit | null> {
  const limit = deviceBindingLimit();
  if (limit === null) return null;
  const probe = await largestStorageBuffer(() => probeStep(system, train));
  if (probe === null) return null;
  return { ...chooseFit(probe, limit, wanted, explicit), probeBytes: probe, limit };
}

/**
 * The decision from a measured 2-clip step (`probe` bytes) and the device's binding `limit`:
 * the micro-batch (the wanted one, lowered to fit unless the config set it) and the evaluation
 * batch. A UserError when nothing fits.
 */
export function chooseFit(
  probe: number,
  limit: number,
  wanted: number,
  explicit: boolean,
): { micro: number; evalBatch: number; note: string | null } {
  const perClip = probe / 2;
  const fits = Math.floor(limit / perClip);
  const needs = (m: number) => formatMib(perClip * m);
  if (fits < 2) {
    throw new UserError(
      `a micro-batch of 2 clips needs a ${formatMib(probe)} storage buffer, above the WebGPU device's binding limit of ${formatMib(limit)} (maxStorageBufferBindingSize): shorten data.seconds or use a GPU with a larger limit`,
    );
  }
  if (explicit && wanted > fits) {
    throw new UserError(
      `train.microBatch ${wanted} needs about ${needs(wanted)} storage buffers, above the WebGPU device's binding limit of ${formatMib(limit)} (maxStorageBufferBindingSize): set train.microBatch to at most ${fits}, or leave it null to have it chosen`,
    );
  }
  const micro = Math.min(wanted, fits);
  const note =
    micro < wanted
      ? `micro-batch lowered from ${wanted} to ${micro} clips: about ${needs(wanted)} buffers would exceed the WebGPU device's binding limit of ${formatMib(limit)}`
      : null;
  return { micro, evalBatch: Math.max(1, Math.min(GPU_EVAL_BATCH, fits)), note };
}

/** Forward and backward of the first 2 training clips; the gradients are dropped. */
async function probeStep(system: AsdSystem, train: Split): Promise<void> {
  await system.prepare?.();
  const rows = [0, 1];
  const inputs = makeInputs(train.clips, rows);
  const ids = Int32Array.from(rows, (r) => train.classIndex[r]!);
  const labels = tf.tensor1d(ids, 'int32');
  const { vars } = trainedParams(system);
  const { value, grads } = tf.variableGrads(
    () =>
      system.objective(inputs, { labelsA: labels, labelsB: labels, lam: 1, ids }, { training: false, updates: [] })
        .total,
    vars,
  );
  // Waiting for the loss makes the backend run (and allocate for) every recorded kernel.
  await value.data();
  tf.dispose([value, ...Object.values(grads), inputs.wave, inputs.logmel, labels]);
}
