import * as tf from '@tensorflow/tfjs';
import { BN_MOMENTUM, type BatchNormParams } from './batchnorm-params.js';
import type { BatchMomentsSink } from './types.js';
import { fusedRunningMomentsAvailable, runningMoments } from '../backend/kernels/running-moments.js';

/** One micro-batch's moments of one BatchNorm: values per channel, mean and biased variance [C]. */
type Moments = { count: number; mean: tf.Tensor; variance: tf.Tensor };

/** Pooled moments: values per channel, their mean, sum of squared deviations. */
type Pooled = { count: number; mean: tf.Tensor; m2: tf.Tensor };

/**
 * BatchNorm batch moments pooled over the micro-batches of one optimizer step, so the running
 * statistics are updated once per step from the whole batch's mean and variance, as a PyTorch
 * step over the whole batch does, instead of once per micro-batch. Micro-batch moments combine
 * exactly (Chan et al.'s pairwise update): the pooled mean and variance are those of the
 * concatenated batch. add() only keeps the tensors: it runs inside the forward pass, where every
 * op would be recorded on the gradient tape (with copies of its inputs) for nothing; commit()
 * pools and updates after the backward pass, with the same ops in the same order.
 */
export class PooledBatchMoments implements BatchMomentsSink {
  private readonly parts = new Map<BatchNormParams, Moments[]>();

  /** Adds one micro-batch: its mean and biased variance [C] over `count` values per channel (kept until commit / dispose). */
  add(p: BatchNormParams, mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const list = this.parts.get(p) ?? [];
    // Both may be the same tensor object as another BatchNorm's only through a caller's reuse;
    // keep() is idempotent and dispose() of a disposed tensor a no-op, so sharing stays safe.
    list.push({ count, mean: tf.keep(mean), variance: tf.keep(variance) });
    this.parts.set(p, list);
  }

  /**
   * Updates each running statistic once, PyTorch's way: running = (1 - momentum) * running +
   * momentum * batch, with the unbiased batch variance (n / (n - 1)), n the pooled count.
   */
  commit(momentum = BN_MOMENTUM): void {
    for (const [p, list] of this.parts) {
      tf.tidy(() => {
        const { runningMean: rm, runningVar: rv } = p;
        if (fusedRunningMomentsAvailable(rm, rv, list[0]!.mean)) {
          // One kernel, the same float32 operations as the ops below (src/backend/kernels/running-moments.ts).
          const [only] = list.length === 1 ? list : [];
          const s = only ? { count: only.count, mean: only.mean, m2: only.variance } : pool(list);
          const varScale = only ? only.count : 1;
          const [mean, variance] = runningMoments(rm, rv, s.mean, s.m2, { momentum, count: s.count, varScale });
          rm.assign(mean);
          rv.assign(variance);
          return;
        }
        const s = pool(list);
        rm.assign(rm.mul(1 - momentum).add(s.mean.mul(momentum)));
        rv.assign(rv.mul(1 - momentum).add(s.m2.mul(momentum / (s.count - 1))));
      });
    }
    this.dispose();
  }

  /** Drops what was pooled without touching the running statistics (a failed step). */
  dispose(): void {
    for (const list of this.parts.values()) for (const m of list) tf.dispose([m.mean, m.variance]);
    this.parts.clear();
  }
}

/** The micro-batches' moments pooled in order, one pairwise update at a time (inside a tidy). */
function pool(list: readonly Moments[]): Pooled {
  const [first, ...rest] = list as [Moments, ...Moments[]];
  let acc: Pooled = { count: first.count, mean: first.mean, m2: first.variance.mul(first.count) };
  for (const { count, mean, variance } of rest) {
    const m2 = variance.mul(count);
    const total = acc.count + count;
    const delta = mean.sub(acc.mean);
    acc = {
      count: total,
      mean: acc.mean.add(delta.mul(count / total)),
      m2: acc.m2.add(m2).add(delta.square().mul((acc.count * count) / total)),
    };
  }
  return acc;
}
