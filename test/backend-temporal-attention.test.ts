import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { temporalAttentionAvailable } from '../src/backend/kernels/temporal-attention.js';
import { setKernelThreads } from '../src/backend/kernels/parallel.js';
import { temporalAttention } from '../src/model/branches/tagram.js';

/**
 * TASTgram's temporal attention in evaluation mode as one wasm kernel (ExpAsdTemporalAttention)
 * against the plain ops (mean + max over the mel axis, sigmoid, broadcast product) on tfjs's cpu backend.
 */

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = 12 * (s / 2 ** 32) - 8;
  }
  return out;
}

test('the fused temporal attention on wasm equals the plain ops on cpu (tails, one mel row, 1-2 threads)', async () => {
  // T = 7: a tail of 3 after the 4-wide columns; [2, 128, 63]: the quick configuration's log-Mel;
  // M = 1; three clips, so two threads share them.
  for (const shape of [
    [3, 5, 7],
    [2, 128, 63],
    [1, 1, 4],
  ] as const) {
    const n = shape[0] * shape[1] * shape[2];
    const data = rand(n, 7 + n);
    await initBackend('cpu');
    const want = tf.tidy(() => temporalAttention(tf.tensor3d(data, [...shape])).dataSync()) as Float32Array;
    for (const threads of [1, 2]) {
      await initBackend('wasm', { threads: 2 });
      setKernelThreads(threads);
      const x = tf.tensor3d(data, [...shape]);
      assert.ok(temporalAttentionAvailable(x));
      const got = tf.tidy(() => temporalAttention(x, true).dataSync()) as Float32Array;
      let worst = 0;
      for (let i = 0; i < n; i++)
        worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
      // Values up to 8 times a sigmoid; tanh4 is within 3e-7 of tanh, the mean's order differs.
      assert.ok(worst <= 2e-6, `[${shape}], ${threads} thread(s): max relative diff ${worst}`);
      x.dispose();
    }
  }
});
