import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { validateExperiment } from '../src/config/load.js';
import { buildSystem } from '../src/systems/build.js';
import { defaultCatalog } from '../src/parts/builtin.js';
import { makeInputs } from '../src/train/batch.js';
import { autoEvalBatch } from '../src/train/loop.js';

// Test clips are scored in batches sized by clip length (autoEvalBatch): a clip's score must not
// depend on which batch, or how large a batch, it is scored in.
test('a clip scores the same, bit for bit, in an evaluation batch of 2, 5 or 10 clips (full FGASpecNet, wasm)', async () => {
  await initBackend('wasm');
  const config = validateExperiment({ data: { seconds: 1 } }, 'test');
  const classes = [0, 2, 4].map((i) => ({ type: 'fan', machineId: `id_0${i}` }));
  const system = buildSystem(config, classes, defaultCatalog());
  const samples = 16000;
  const nMels = config.features.logmel.nMels;
  const frames = Math.floor(samples / config.features.logmel.hop) + 1;
  const waves = Array.from({ length: 10 }, (_, c) =>
    Float32Array.from({ length: samples }, (_, i) => Math.sin(i * 0.01 * (c + 1)) * 0.3),
  );
  const mels = Array.from({ length: 10 }, (_, c) =>
    Float32Array.from({ length: nMels * frames }, (_, i) => Math.cos(i * 0.003 * (c + 2)) * 15 - 30),
  );
  const clips = { samples, nMels, frames, wave: (i: number) => waves[i]!, logmel: (i: number) => mels[i]! };
  const scoreIn = async (size: number) => {
    const out: number[] = [];
    for (let i = 0; i < 10; i += size) {
      const rows = Array.from({ length: size }, (_, k) => i + k);
      const inputs = makeInputs(clips, rows);
      const labels = tf.tensor1d(
        rows.map((r) => r % 3),
        'int32',
      );
      out.push(...(await system.score(inputs, labels)));
      tf.dispose([inputs.wave, inputs.logmel, labels]);
    }
    return out;
  };
  const whole = await scoreIn(10);
  assert.ok(whole.every(Number.isFinite));
  assert.ok(new Set(whole).size > 5, 'different clips score differently');
  assert.deepEqual(await scoreIn(5), whole);
  assert.deepEqual(await scoreIn(2), whole);
  system.dispose();
});

test('evaluation batches: 16 clips of 10 s on the CPU backends, more for shorter clips up to 64; 16 on native TensorFlow', () => {
  assert.equal(autoEvalBatch('wasm', 10), 16);
  assert.equal(autoEvalBatch('wasm', 5), 32);
  assert.equal(autoEvalBatch('wasm', 2), 64);
  assert.equal(autoEvalBatch('cpu', 30), 16);
  assert.equal(autoEvalBatch('tensorflow', 2), 16);
});
