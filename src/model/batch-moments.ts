import * as tf from '@tensorflow/tfjs';
import { BN_MOMENTUM, type BatchNormParams } from './batchnorm-params.js';
import type { BatchMomentsSink } from './types.js';

/** One BatchNorm's input moments so far: values per channel, their mean, sum of squared deviations. */
type Pooled = { count: number; mean: tf.Tensor; m2: tf.Tensor };

/**
 * BatchNorm batch moments pooled over the micro-batches of one optimizer step, so the running
 * statistics are updated once per step from the whole batch's mean and variance, as a PyTorch
 * step over the whole batch does, instead of once per micro-batch. Micro-batch moments combine
 * exactly (Chan et al.'s pairwise update): the pooled mean and variance are those of the
 * concatenated batch.
 */
export class PooledBatchMoments implements BatchMomentsSink {
  private readonly pooled = new Map<BatchNormParams, Pooled>();

  /** Adds one micro-batch: its mean and biased variance [C] over `count` values per channel. */
  add(p: BatchNormParams, mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const prev = this.pooled.get(p);
    const next = tf.tidy((): Pooled => {
      const m2 = variance.mul(count);
      if (!prev) return { count, mean: tf.keep(mean.clone()), m2: tf.keep(m2) };
      const total = prev.count + count;
      const delta = mean.sub(prev.mean);
      return {
        count: total,
        mean: tf.keep(prev.mean.add(delta.mul(count / total))),
        m2: tf.keep(prev.m2.add(m2).add(delta.square().mul((prev.count * count) / total))),
      };
    });
    if (prev) tf.dispose([prev.mean, prev.m2]);
    this.pooled.set(p, next);
  }

  /**
   * Updates each running statistic once, PyTorch's way: running = (1 - momentum) * running +
   * momentum * batch, with the unbiased batch variance (n / (n - 1)), n the pooled count.
   */
  commit(momentum = BN_MOMENTUM): void {
    for (const [p, s] of this.pooled) {
      tf.tidy(() => {
        p.runningMean.assign(p.runningMean.mul(1 - momentum).add(s.mean.mul(momentum)));
        p.runningVar.assign(p.runningVar.mul(1 - momentum).add(s.m2.mul(momentum / (s.count - 1))));
      });
    }
    this.dispose();
  }

  /** Drops what was pooled without touching the running statistics (a failed step). */
  dispose(): void {
    for (const s of this.pooled.values()) tf.dispose([s.mean, s.m2]);
    this.pooled.clear();
  }
}
