import * as tf from '@tensorflow/tfjs';
import type { BatchMomentsSink, ForwardContext, ModelInputs } from '../model/types.js';
import type { MixTargets } from '../losses/types.js';
import type { AsdSystem } from '../systems/types.js';

/** What a training step needs: the system (src/systems) supplies the objective. */
export type StepSystem = Pick<AsdSystem, 'objective'>;

export interface StepResult {
  loss: number;
  /** Each loss term the system reports (e.g. cls and metric, or mse), batch mean. */
  terms: Record<string, number>;
}

/**
 * Forward + backward of one micro-batch (the system's objective, e.g. §2.3: L = L_cls +
 * lambda_ST * L_ST). Gradients are
 * scaled by `weight` (micro-batch share of the batch) and added into `acc`, so a batch split in
 * micro-batches gets the gradient of the batch-mean loss. The forward pass normalises with each
 * micro-batch's own BatchNorm statistics (as data-parallel training without sync-BN). With
 * `moments`, the batch moments are pooled there and the caller updates the running statistics
 * once per step (PooledBatchMoments.commit); without, they are updated after the backward pass.
 */
export async function accumulateGradients(
  system: StepSystem,
  vars: tf.Variable[],
  inputs: ModelInputs,
  targets: MixTargets,
  weight: number,
  acc: Map<string, tf.Tensor>,
  moments?: BatchMomentsSink,
): Promise<StepResult> {
  const pending = accumulateGradientsDeferred(system, vars, inputs, targets, weight, acc, moments);
  const read = await pending.values.data();
  pending.values.dispose();
  return pending.result(read);
}

/** A micro-batch's loss and terms still on the device: read them together with the others of the step. */
export interface PendingResult {
  /** [loss, ...terms] as one small vector. */
  values: tf.Tensor1D;
  /** Turns the read values (or a slice of a larger read) into a StepResult. */
  result(read: ArrayLike<number>): StepResult;
}

/**
 * accumulateGradients without the read: the loss and its terms stay on the device, packed into one
 * small vector, so a step of several micro-batches reads once (trainStep) and a GPU's queue is not
 * drained after every micro-batch. The caller disposes `values`.
 */
export function accumulateGradientsDeferred(
  system: StepSystem,
  vars: tf.Variable[],
  inputs: ModelInputs,
  targets: MixTargets,
  weight: number,
  acc: Map<string, tf.Tensor>,
  moments?: BatchMomentsSink,
): PendingResult {
  const ctx: ForwardContext = { training: true, updates: [], moments };
  const kept: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const r = system.objective(inputs, targets, ctx);
    for (const [name, t] of Object.entries(r.terms)) kept[name] = tf.keep(t.clone());
    return r.total;
  }, vars);
  for (const [name, g] of Object.entries(grads)) {
    const prev = acc.get(name);
    // The first micro-batch of a whole-batch step hands its gradient over as it is (no copy).
    const next =
      !prev && weight === 1 ? g : tf.tidy(() => (prev ? prev.add(weight === 1 ? g : g.mul(weight)) : g.mul(weight)));
    acc.set(name, tf.keep(next));
    if (next !== g) g.dispose();
    prev?.dispose();
  }
  for (const update of ctx.updates) update();
  const names = Object.keys(kept);
  const values = tf.tidy(() => tf.stack([value, ...names.map((k) => kept[k]!)]) as tf.Tensor1D);
  tf.dispose([value, ...Object.values(kept)]);
  return {
    values,
    result: (read) => ({
      loss: read[0]!,
      terms: Object.fromEntries(names.map((k, i) => [k, read[i + 1]!])),
    }),
  };
}

/** The weights one optimizer trains: every trainable weight of the system. */
export interface TrainedParams {
  /** Keyed by our parameter names (checkpoints, the optimizer). */
  params: Map<string, tf.Variable>;
  /** Learning-rate multipliers (SoftTriple's centres train at its lrMultiplier). */
  multipliers: Map<string, number>;
  /** Adam epsilons that differ from the optimizer's (the metric loss's parameters use its eps). */
  epsilons: Map<string, number>;
  /** The same variables as a list, for tf.variableGrads. */
  vars: tf.Variable[];
  /** Re-keys accumulated gradients (tfjs variable names) by parameter name for the optimizer. */
  byParam(acc: Map<string, tf.Tensor>): Record<string, tf.Tensor>;
}

export function trainedParams(system: Pick<AsdSystem, 'trainable' | 'lrMultipliers' | 'adamEpsilons'>): TrainedParams {
  const params = new Map<string, tf.Variable>(system.trainable());
  const keyOf = new Map([...params].map(([k, v]) => [v.name, k]));
  return {
    params,
    multipliers: system.lrMultipliers(),
    epsilons: system.adamEpsilons(),
    vars: [...params.values()],
    byParam(acc) {
      const grads: Record<string, tf.Tensor> = {};
      for (const [vname, g] of acc) {
        const key = keyOf.get(vname);
        if (key !== undefined) grads[key] = g;
      }
      return grads;
    },
  };
}
