import * as tf from '@tensorflow/tfjs';
import type { BatchMomentsSink, ForwardContext, ModelInputs } from '../model/types.js';
import type { ClassificationLoss, MetricLoss, MixTargets } from '../losses/types.js';

/** What a training step needs of the model (built by the registry container). */
export interface StepModel {
  embed(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor2D;
  readonly head: { readonly weight: tf.Variable };
}

export interface StepLosses {
  classification: ClassificationLoss;
  metric: MetricLoss | null;
}

export interface StepResult {
  loss: number;
  terms: { cls: number; metric: number };
}

/**
 * Forward + backward of one micro-batch (§2.3: L = L_cls + lambda_ST * L_ST). Gradients are
 * scaled by `weight` (micro-batch share of the batch) and added into `acc`, so a batch split in
 * micro-batches gets the gradient of the batch-mean loss. The forward pass normalises with each
 * micro-batch's own BatchNorm statistics (as data-parallel training without sync-BN). With
 * `moments`, the batch moments are pooled there and the caller updates the running statistics
 * once per step (PooledBatchMoments.commit); without, they are updated after the backward pass.
 */
export function accumulateGradients(
  model: StepModel,
  losses: StepLosses,
  vars: tf.Variable[],
  inputs: ModelInputs,
  targets: MixTargets,
  weight: number,
  acc: Map<string, tf.Tensor>,
  moments?: BatchMomentsSink,
): StepResult {
  const ctx: ForwardContext = { training: true, updates: [], moments };
  const kept: { cls?: tf.Scalar; metric?: tf.Scalar } = {};
  const { value, grads } = tf.variableGrads(() => {
    const emb = model.embed(inputs, ctx);
    const cls = losses.classification.compute(emb, model.head.weight as tf.Tensor as tf.Tensor2D, targets);
    kept.cls = tf.keep(cls.clone());
    if (!losses.metric) return cls;
    const met = losses.metric.compute(emb, targets);
    kept.metric = tf.keep(met.clone());
    return cls.add(met.mul(losses.metric.weight)) as tf.Scalar;
  }, vars);
  tf.tidy(() => {
    for (const [name, g] of Object.entries(grads)) {
      const scaled = weight === 1 ? g.clone() : g.mul(weight);
      const prev = acc.get(name);
      acc.set(name, tf.keep(prev ? prev.add(scaled) : scaled));
      prev?.dispose();
    }
  });
  tf.dispose(grads);
  for (const update of ctx.updates) update();
  const loss = value.dataSync()[0]!;
  value.dispose();
  const terms = { cls: kept.cls?.dataSync()[0] ?? 0, metric: kept.metric?.dataSync()[0] ?? 0 };
  tf.dispose([kept.cls, kept.metric].filter((t): t is tf.Scalar => t !== undefined));
  return { loss, terms };
}

/** The weights one optimizer trains: the model's and the metric loss's (SoftTriple centres). */
export interface TrainedParams {
  /** Keyed by our parameter names (checkpoints, the optimizer). */
  params: Map<string, tf.Variable>;
  /** Learning-rate multipliers (the metric loss's parameters train at its lrMultiplier). */
  multipliers: Map<string, number>;
  /** Adam epsilons that differ from the optimizer's (the metric loss's parameters use its eps). */
  epsilons: Map<string, number>;
  /** The same variables as a list, for tf.variableGrads. */
  vars: tf.Variable[];
  /** Re-keys accumulated gradients (tfjs variable names) by parameter name for the optimizer. */
  byParam(acc: Map<string, tf.Tensor>): Record<string, tf.Tensor>;
}

export function trainedParams(model: { trainable(): Map<string, tf.Variable> }, metric: MetricLoss | null): TrainedParams {
  const params = new Map<string, tf.Variable>(model.trainable());
  const multipliers = new Map<string, number>();
  const epsilons = new Map<string, number>();
  for (const [name, v] of metric?.trainable() ?? []) {
    params.set(name, v);
    multipliers.set(name, metric!.lrMultiplier);
    if (metric!.eps !== undefined) epsilons.set(name, metric!.eps);
  }
  const keyOf = new Map([...params].map(([k, v]) => [v.name, k]));
  return {
    params,
    multipliers,
    epsilons,
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
