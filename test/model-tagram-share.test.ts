import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { sharedTemporalAttention, temporalAttention } from '../src/model/branches/tagram.js';
import { FgaSpecBranch } from '../src/model/branches/fga-spec.js';
import { rand } from './fixtures/fused-check.js';

/**
 * F_TA is computed once per log-Mel batch and shared by the TAgram branch and FGA-Spec's gate:
 * the same tensor while it lives, computed again once disposed, and the gate the same with or
 * without the shared map.
 */
const clip = { nMels: 8, frames: 12, samples: 12 * 16 - 16, hop: 16, sampleRate: 16000 };

test('the temporal-attention map is shared while it lives, recomputed after, same values', async () => {
  await initBackend('cpu');
  const lm = tf.tensor3d(rand(2 * 8 * 12, 31), [2, 8, 12]);
  const first = sharedTemporalAttention(lm);
  assert.equal(sharedTemporalAttention(lm), first, 'the second use takes the first map');
  const fresh = temporalAttention(lm);
  assert.deepEqual(first.arraySync(), fresh.arraySync());
  first.dispose();
  const again = sharedTemporalAttention(lm);
  assert.notEqual(again, first);
  assert.equal(again.isDisposed, false);
  assert.deepEqual(again.arraySync(), fresh.arraySync());
  const other = tf.tensor3d(rand(2 * 8 * 12, 32), [2, 8, 12]);
  assert.notEqual(sharedTemporalAttention(other), again, 'another batch gets its own map');
  tf.dispose([lm, other, fresh, again]);
});

test("FGA-Spec's gate is the same whether the TAgram branch's map was computed first or not", async () => {
  await initBackend('cpu');
  const fga = new FgaSpecBranch('fga', 4, clip, { lambda: 0.5, timeKernel: 3 });
  const lm = tf.tensor3d(rand(2 * 8 * 12, 33), [2, 8, 12]);
  const alone = tf.tidy(() => fga.gate(lm).arraySync());
  const shared = tf.tidy(() => {
    sharedTemporalAttention(lm);
    return fga.gate(lm).arraySync();
  });
  assert.deepEqual(shared, alone);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    sharedTemporalAttention(lm);
    fga.gate(lm);
  });
  assert.equal(tf.memory().numTensors, before, 'nothing leaks out of the tidy');
  lm.dispose();
});
