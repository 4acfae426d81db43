import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../src/audio/wav.js';
import { validateExperiment } from '../src/parts/experiment.js';
import { train } from '../src/train/index.js';
import type { EvalEvent, TrainEvent } from '../src/train/events.js';
import { mulberry32 } from '../src/random/index.js';

/**
 * Training must improve something: on an easy generated set the loss falls and the
 * AUC beats chance clearly. Each machine ID hums at its own pitch; an anomalous clip of an ID
 * hums at the other ID's pitch, so a model that learned to tell the IDs apart scores it as
 * unlike its own ID. A trainer that never applied its gradients fails both assertions.
 */
const SR = 16000;
const SECONDS = 0.5;
const PITCH: Record<string, number> = { id_00: 500, id_02: 2600 };

function clip(freq: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const n = SR * SECONDS;
  const phase = rand() * 2 * Math.PI;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / SR;
    out[i] =
      0.4 * Math.sin(2 * Math.PI * freq * t + phase) + 0.2 * Math.sin(4 * Math.PI * freq * t) + 0.05 * (rand() * 2 - 1);
  }
  return out;
}

function easySet(root: string): void {
  for (const split of ['train', 'test']) mkdirSync(join(root, 'fan', split), { recursive: true });
  let seed = 1;
  for (const [id, f] of Object.entries(PITCH)) {
    const other = Object.entries(PITCH).find(([k]) => k !== id)![1];
    for (let i = 0; i < 12; i++)
      writeWav(
        join(root, 'fan', 'train', `normal_id_${id.slice(3)}_${String(i).padStart(8, '0')}.wav`),
        clip(f * (1 + 0.02 * (i % 3)), seed++),
        SR,
      );
    for (let i = 0; i < 4; i++) {
      writeWav(
        join(root, 'fan', 'test', `normal_id_${id.slice(3)}_${String(i).padStart(8, '0')}.wav`),
        clip(f, seed++),
        SR,
      );
      writeWav(
        join(root, 'fan', 'test', `anomaly_id_${id.slice(3)}_${String(i).padStart(8, '0')}.wav`),
        clip(other, seed++),
        SR,
      );
    }
  }
}

test('training learns: the loss falls and the AUC beats chance clearly on an easy generated set', {
  timeout: 600_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'exp-learns-'));
  const root = join(dir, 'data');
  easySet(root);
  const config = validateExperiment(
    {
      name: 'learns',
      seed: 1,
      data: { root, seconds: SECONDS, sampleRate: SR },
      features: { branches: ['logmel'] },
      loss: { classification: { name: 'arcface' }, metric: null },
      train: { epochs: 6, batchSize: 8, lr: 0.002, checkpointEvery: 100 },
    },
    'train-learns',
  );
  const losses: number[] = [];
  let final: EvalEvent | null = null;
  await train({
    config,
    runDir: join(dir, 'run'),
    backend: 'wasm',
    onEvent: (e: TrainEvent) => {
      if (e.kind === 'epoch') losses.push(e.loss);
      if (e.kind === 'eval' && e.final) final = e;
    },
  });
  t.diagnostic(
    `losses ${losses.map((l) => l.toFixed(3)).join(' -> ')}; final AUC ${(final as EvalEvent | null)?.average?.auc.toFixed(3)}`,
  );
  assert.equal(losses.length, 6);
  const result = final as EvalEvent | null;
  assert.ok(result?.average, 'a final evaluation');
  const first = losses[0]!;
  const last = losses[losses.length - 1]!;
  assert.ok(last < 0.7 * first, `the loss falls by more than 30 %: ${losses.map((l) => l.toFixed(3)).join(' -> ')}`);
  assert.ok(
    result.average.auc > 0.8,
    `AUC ${result.average.auc.toFixed(3)} clearly above chance (0.5); losses ${losses.map((l) => l.toFixed(3)).join(' -> ')}`,
  );
});
