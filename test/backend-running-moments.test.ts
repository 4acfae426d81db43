import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { fusedRunningMomentsAvailable, runningMoments } from '../src/backend/kernels/running-moments.js';
import { BN_MOMENTUM } from '../src/model/batchnorm-params.js';
import { rand } from './fixtures/fused-check.js';

/**
 * The running-statistic kernel (src/backend/kernels/running-moments.ts) against the tfjs ops it
 * replaces in PooledBatchMoments.commit: bit for bit on wasm and on the cpu backend, over values
 * spread across many binary orders of magnitude (where a float64 sum not rounded at every float32
 * op would differ), for a biased variance (varScale = count) and for a sum of squared deviations
 * (varScale = 1).
 */

/** n float32 values, signs and magnitudes 2^-20 .. 2^20 mixed. */
function spread(n: number, seed: number): Float32Array {
  const u = rand(2 * n, seed);
  return Float32Array.from({ length: n }, (_, i) => u[2 * i]! * 2 ** Math.round(40 * u[2 * i + 1]!));
}

/** The ops of PooledBatchMoments.commit (after pooling) as tfjs ops. */
function byOps(rm: tf.Tensor, rv: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, count: number, varScale: number) {
  const m2 = varScale === 1 ? variance : variance.mul(varScale);
  return [
    rm.mul(1 - BN_MOMENTUM).add(mean.mul(BN_MOMENTUM)),
    rv.mul(1 - BN_MOMENTUM).add(m2.mul(BN_MOMENTUM / (count - 1))),
  ];
}

const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

test('running-moments kernel: bit for bit the tfjs ops on wasm and on cpu', async () => {
  const n = 4096;
  const inputs = [spread(n, 1), spread(n, 2).map(Math.abs), spread(n, 3), spread(n, 4).map(Math.abs)];
  for (const [count, varScale] of [
    [32768, 32768],
    [6, 6],
    [2, 1],
    [1008, 1],
  ] as const) {
    const expected: number[][][] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend(backend);
      tf.tidy(() => {
        const [rm, rv, mean, variance] = inputs.map((a) => tf.tensor1d(a)) as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
        ];
        expected.push(byOps(rm, rv, mean, variance, count, varScale).map(bits));
      });
    }
    assert.deepEqual(expected[1], expected[0], 'the ops give the same bits on cpu and wasm');
    assert.ok(fusedRunningMomentsAvailable(tf.zeros([n])));
    tf.tidy(() => {
      const [rm, rv, mean, variance] = inputs.map((a) => tf.tensor1d(a)) as [
        tf.Tensor,
        tf.Tensor,
        tf.Tensor,
        tf.Tensor,
      ];
      const got = runningMoments(rm, rv, mean, variance, { momentum: BN_MOMENTUM, count, varScale }).map(bits);
      ['mean', 'variance'].forEach((name, k) => {
        const diff = got[k]!.findIndex((v, i) => v !== expected[1]![k]![i]);
        assert.equal(diff, -1, `count ${count}, varScale ${varScale}: running ${name} differs first at ${diff}`);
      });
    });
  }
});
