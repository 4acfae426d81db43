import * as tf from '@tensorflow/tfjs';
import { makeInputs, type ClipArrays } from './batch.js';
import { accumulateGradientsDeferred, type PendingResult, type TrainedParams } from './step.js';
import type { AdamW } from './adamw.js';
import { microBatches } from './plan.js';
import { PooledBatchMoments } from '../model/batch-moments.js';
import type { AsdSystem } from '../systems/types.js';
import { guarded } from '../backend/gpu-guard.js';

/** Thrown when the loss stops being a finite number; names where it happened. */
export class DivergedError extends Error {
  override readonly name = 'DivergedError';
}

/** What every optimizer step of a run shares: the system, its weights, the optimizer, the clips. */
export interface StepRig {
  system: AsdSystem;
  params: TrainedParams;
  optimizer: AdamW;
  /** Training clips and their global class indices. */
  clips: ClipArrays;
  classIndex: Int32Array;
  /** Clips per micro-batch (the batch's gradient is accumulated over micro-batches). */
  micro: number;
}

/** One batch: its clips, each clip's mixup partner, and the mixup weight (1 = no mixup). */
export interface StepBatch {
  rows: readonly number[];
  partners: readonly number[];
  lam: number;
  /** Whether the system mixes inputs (the partner labels enter the loss) even when lam is 1. */
  mixup: boolean;
}

export interface StepOptions {
  /** Names the step in a DivergedError ("at epoch 3, step 2 of 9"). */
  where: string;
  /** Runs before each micro-batch; a stop throws from there. */
  pause?: () => Promise<void>;
  /** Each loss term times its micro-batch's clips is added here (the epoch's running sums). */
  termSums?: Record<string, number>;
}

/**
 * One optimizer step, the one `exp run` and `exp bench` both execute: the batch in micro-batches
 * (gradients of the batch-mean loss accumulated, each micro-batch normalised by its own BatchNorm
 * statistics), one AdamW update, and the BatchNorm running statistics updated once from the
 * pooled moments of the whole batch. A stop or a divergence drops a half-accumulated step whole,
 * running statistics included. Returns the batch-mean loss.
 */
export async function trainStep(rig: StepRig, batch: StepBatch, lr: number, opts: StepOptions): Promise<number> {
  // On a GPU: inside the device's error scopes, so a failed step never yields a number.
  return guarded(opts.where, () => stepBody(rig, batch, lr, opts));
}

async function stepBody(rig: StepRig, batch: StepBatch, lr: number, opts: StepOptions): Promise<number> {
  const { rows, partners, lam } = batch;
  const acc = new Map<string, tf.Tensor>();
  const moments = new PooledBatchMoments();
  const pending: Array<{ result: PendingResult; clips: number }> = [];
  let committed = false;
  try {
    await rig.system.prepare?.();
    for (const [m0, m1] of microBatches(rows.length, rig.micro)) {
      await opts.pause?.();
      const mRows = rows.slice(m0, m1);
      const mPartners = partners.slice(m0, m1);
      const mix = batch.mixup ? { partners: mPartners, lam } : undefined;
      // The micro-batch's clips are loaded (features computed when first needed) before it is built.
      await rig.clips.ready?.(mix ? [...mRows, ...mPartners] : mRows);
      const inputs = makeInputs(rig.clips, mRows, mix);
      const ids = Int32Array.from(mRows, (r) => rig.classIndex[r]!);
      const labelsA = tf.tensor1d(ids, 'int32');
      const labelsB = tf.tensor1d(
        mPartners.map((r) => rig.classIndex[r]!),
        'int32',
      );
      const share = mRows.length / rows.length;
      // The loss stays on the device until the step's end: the next micro-batch is built while a
      // GPU still computes this one, and the queue is drained once per step, not per micro-batch.
      const result = accumulateGradientsDeferred(
        rig.system,
        rig.params.vars,
        inputs,
        { labelsA, labelsB, lam, ids },
        share,
        acc,
        moments,
      );
      pending.push({ result, clips: mRows.length });
      tf.dispose([inputs.wave, inputs.logmel, labelsA, labelsB]);
    }
    const loss = await readStepLoss(pending, rows.length, opts);
    rig.optimizer.apply(rig.params.byParam(acc), lr);
    moments.commit();
    committed = true;
    return loss;
  } finally {
    tf.dispose([...acc.values(), ...pending.map((p) => p.result.values)]);
    // Running statistics are only committed with the step, so dropping it leaves them as they were.
    if (!committed) moments.dispose();
  }
}

/**
 * The step's one read: every micro-batch's [loss, ...terms] at once. Returns the batch-mean loss
 * and adds each term times its micro-batch's clips to opts.termSums, summed in the same order and
 * precision as when each micro-batch was read on its own. A loss that is not finite fails the step.
 */
async function readStepLoss(
  pending: ReadonlyArray<{ result: PendingResult; clips: number }>,
  batchClips: number,
  opts: StepOptions,
): Promise<number> {
  const packed = tf.tidy(() => tf.concat(pending.map((p) => p.result.values)));
  const read = await packed.data();
  packed.dispose();
  const termSums = opts.termSums ?? {};
  let loss = 0;
  let offset = 0;
  for (const p of pending) {
    const width = p.result.values.size;
    const res = p.result.result(read.subarray(offset, offset + width));
    offset += width;
    if (!Number.isFinite(res.loss)) throw new DivergedError(`loss became ${res.loss} ${opts.where}`);
    const share = p.clips / batchClips;
    loss += res.loss * share;
    for (const [t, v] of Object.entries(res.terms)) termSums[t] = (termSums[t] ?? 0) + v * p.clips;
  }
  return loss;
}
