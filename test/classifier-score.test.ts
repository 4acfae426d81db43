import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { validateExperiment } from '../src/config/load.js';
import { buildSystem } from '../src/systems/build.js';
import { defaultCatalog } from '../src/parts/builtin.js';
import { makeInputs } from '../src/train/batch.js';

// Scoring reads back asynchronously and reuses the folded evaluation model across batches: the
// folded weights must outlive each call (they were once folded inside a tf.tidy and disposed).
test('the classifier scores the same batch twice (cached folded model) with equal scores, and validates', async () => {
  await initBackend('wasm');
  const config = validateExperiment({ data: { seconds: 1 } }, 'test');
  const system = buildSystem(
    config,
    [
      { type: 'fan', machineId: 'id_00' },
      { type: 'fan', machineId: 'id_02' },
    ],
    defaultCatalog(),
  );
  const samples = 16000;
  const frames = Math.floor(samples / config.features.logmel.hop) + 1;
  const wave = Float32Array.from({ length: samples }, (_, i) => Math.sin(i * 0.05) * 0.2);
  const mel = Float32Array.from(
    { length: config.features.logmel.nMels * frames },
    (_, i) => Math.cos(i * 0.01) * 10 - 20,
  );
  const clips = { samples, nMels: config.features.logmel.nMels, frames, wave: () => wave, logmel: () => mel };
  const labels = tf.tensor1d([0, 1], 'int32');
  const inputs = makeInputs(clips, [0, 1]);
  const a = await system.score(inputs, labels);
  const b = await system.score(inputs, labels);
  assert.deepEqual(Array.from(b), Array.from(a));
  assert.ok(a.every(Number.isFinite));
  assert.ok(Number.isFinite(await system.validationLoss(inputs, labels)));
  tf.dispose([labels, inputs.wave, inputs.logmel]);
  system.dispose();
});
