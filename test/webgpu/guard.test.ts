import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/util/errors.js';
import { guarded, largestStorageBuffer } from '../../src/backend/gpu-guard.js';
import { webgpuDevice } from '../../src/backend/webgpu.js';
import { chooseFit } from '../../src/train/fit.js';
import { requireWebgpu } from './helpers.js';

// The device of this process is created with a 1 MiB storage binding limit (lavapipe offers 128 MiB),
// so a 2 MiB tensor crosses it: the guard is exercised cheaply.
const LIMIT = 1 << 20;
process.env['EXP_WEBGPU_MAX_BINDING_BYTES'] = String(LIMIT);

test('EXP_WEBGPU_MAX_BINDING_BYTES: the device is created with the smaller binding limit, and the adapter says so', async () => {
  const info = await requireWebgpu();
  assert.equal(info.gpu!.bindingLimit, LIMIT);
  assert.ok(info.gpu!.limits.maxStorageBufferBindingSize > LIMIT, 'the adapter offers more');
});

test('a step that binds a buffer beyond the limit: guarded() stops with a UserError naming the limit, never a number', async () => {
  await requireWebgpu();
  const n = (2 * LIMIT) / 4; // 2 MiB of float32
  // Unguarded, tfjs raises nothing (here the number is even right: lavapipe's real limit is 128 MiB;
  // beyond a device's real limit the read returns zeros or a reused buffer's stale values).
  const silent = await (async () => {
    const t = tf.tidy(() => tf.sum(tf.mul(tf.ones([n]), 2)));
    const v = (await t.data())[0];
    t.dispose();
    return v;
  })().catch((e: unknown) => `threw ${String(e)}`);
  process.stderr.write(`# unguarded sum of ${n} twos: ${String(silent)} (exact: ${2 * n})\n`);
  await assert.rejects(
    () =>
      guarded('at epoch 1, step 1 of 1', async () => {
        const t = tf.tidy(() => tf.sum(tf.mul(tf.ones([n]), 2)));
        const v = (await t.data())[0]!;
        t.dispose();
        return v;
      }),
    (e: unknown) =>
      e instanceof UserError &&
      /binding limit is 1\.0 MiB/.test(e.message) &&
      /EXP_WEBGPU_MAX_BINDING_BYTES/.test(e.message) &&
      /train\.microBatch/.test(e.message) &&
      /at epoch 1, step 1 of 1/.test(e.message),
  );
  // Within the limit the same scope passes and the number is exact.
  const ok = await guarded('a small step', async () => {
    const t = tf.tidy(() => tf.sum(tf.mul(tf.ones([1000]), 2)));
    const v = (await t.data())[0]!;
    t.dispose();
    return v;
  });
  assert.equal(ok, 2000);
});

test('the largest storage buffer of some work is measured', async () => {
  await requireWebgpu();
  const largest = await largestStorageBuffer(async () => {
    const t = tf.tidy(() => tf.sum(tf.add(tf.ones([1000, 50]), 1)));
    await t.data();
    t.dispose();
  });
  assert.ok(largest !== null && largest >= 1000 * 50 * 4, `largest ${largest}`);
});

test('the choice of micro-batch from a measured 2-clip step: lowered when automatic, refused when set, refused when 2 clips do not fit', () => {
  const mib = 2 ** 20;
  // 2 clips need 10 MiB -> 5 MiB per clip; a 32 MiB limit holds 6 clips.
  assert.deepEqual(chooseFit(10 * mib, 32 * mib, 4, false), { micro: 4, evalBatch: 6, note: null });
  const lowered = chooseFit(10 * mib, 32 * mib, 16, false);
  assert.equal(lowered.micro, 6);
  assert.match(lowered.note!, /lowered from 16 to 6/);
  assert.throws(
    () => chooseFit(10 * mib, 32 * mib, 16, true),
    (e: unknown) => e instanceof UserError && /train\.microBatch 16/.test(e.message) && /at most 6/.test(e.message),
  );
  assert.throws(
    () => chooseFit(40 * mib, 32 * mib, 8, false),
    (e: unknown) => e instanceof UserError && /data\.seconds/.test(e.message),
  );
});

test('a lost device: the next guarded step stops with a UserError, no number', async () => {
  await requireWebgpu();
  (webgpuDevice()!.device as unknown as { destroy(): void }).destroy();
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(
    () => guarded('at epoch 2, step 3 of 4', async () => 1),
    (e: unknown) => e instanceof UserError && /device was lost at epoch 2, step 3 of 4/.test(e.message),
  );
});
