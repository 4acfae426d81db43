import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { accumulateGradients, type StepSystem } from '../src/train/step.js';
import { autoMicroBatch } from '../src/train/loop.js';
import { learningRate } from '../src/train/schedule.js';
import { createLossRegistries } from '../src/losses/registry.js';
import { ClassificationLossConfig } from '../src/config/schema.js';

test('micro-batches accumulate to the whole-batch gradient (a model without BatchNorm)', async () => {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.randomNormal([6, 5], 0, 1, 'float32', 7), true, 'step-test/w');
  const head = tf.variable(tf.randomNormal([3, 5], 0, 1, 'float32', 8), true, 'step-test/head');
  const cls = createLossRegistries().classificationLosses.get('arcface')(
    ClassificationLossConfig.parse({ name: 'arcface' }),
    3,
    5,
    0,
  );
  const system: StepSystem = {
    objective: (inputs, targets) => {
      const total = cls.compute(tf.matMul(inputs.wave, w) as tf.Tensor2D, head as tf.Tensor as tf.Tensor2D, targets);
      return { total, terms: { cls: total } };
    },
  };
  const x = tf.randomNormal([4, 6], 0, 1, 'float32', 9) as tf.Tensor2D;
  const labels = [0, 2, 1, 2];
  const run = async (parts: number[][]) => {
    const acc = new Map<string, tf.Tensor>();
    for (const rows of parts) {
      const wave = tf.gather(x, rows) as tf.Tensor2D;
      const lab = tf.tensor1d(
        rows.map((r) => labels[r]!),
        'int32',
      );
      await accumulateGradients(
        system,
        [w, head],
        { wave, logmel: tf.zeros([rows.length, 1, 1]) },
        { labelsA: lab, labelsB: lab, lam: 1 },
        rows.length / 4,
        acc,
      );
    }
    return new Map([...acc].map(([k, v]) => [k, Array.from(v.dataSync())]));
  };
  const whole = await run([[0, 1, 2, 3]]);
  const halves = await run([
    [0, 1],
    [2, 3],
  ]);
  for (const [k, g] of whole) {
    const h = halves.get(k)!;
    g.forEach((v, i) => assert.ok(Math.abs(v - h[i]!) < 1e-5 * (1 + Math.abs(v)), `${k}[${i}]: ${v} vs ${h[i]}`));
  }
});

test('automatic micro-batch: 8 clips of 10 s on wasm, more for shorter clips, whole batch on native TensorFlow', () => {
  assert.equal(autoMicroBatch('wasm', 10, 64), 8);
  assert.equal(autoMicroBatch('wasm', 2, 64), 40);
  assert.equal(autoMicroBatch('wasm', 2, 16), 16);
  assert.equal(autoMicroBatch('tensorflow', 10, 64), 64);
});

test('cosine schedule: lr at epoch 0, eta_min approached at T_max, monotone (CosineAnnealingLR)', () => {
  const cfg = { lr: 1e-4, etaMin: 1e-5, etaMinRatio: 0.1, epochs: 300, schedule: 'cosine' as const };
  assert.equal(learningRate(cfg, 0), 1e-4);
  assert.ok(Math.abs(learningRate(cfg, 300) - 1e-5) < 1e-12);
  assert.ok(Math.abs(learningRate(cfg, 150) - 5.5e-5) < 1e-12);
  for (let e = 1; e <= 300; e++) assert.ok(learningRate(cfg, e) <= learningRate(cfg, e - 1));
  assert.equal(learningRate({ ...cfg, schedule: 'constant' }, 123), 1e-4);
});

test('AdamW matches the torch.optim.AdamW update written out in plain JS (two steps, decay, lr multiplier), generic ops on cpu and the fused wasm kernel', async () => {
  const { AdamW } = await import('../src/train/adamw.js');
  const { initBackend } = await import('../src/backend/select.js');
  // 3 and 7 elements: the fused kernel's scalar tail and vector body; 140,003: split over threads.
  for (const [backend, n] of [
    ['cpu', 3],
    ['wasm', 7],
    ['wasm', 140_003],
  ] as const) {
    await initBackend(backend);
    const val = (i: number, s: number) => Math.sin(i * 12.9898 + s * 78.233) * (s === 0 ? 2 : 0.4);
    const p0 = Array.from({ length: n }, (_, i) => val(i, 0));
    const grads = [1, 2].map((s) => Array.from({ length: n }, (_, i) => val(i, s)));
    const p = tf.variable(tf.tensor1d(p0), true, `adamw-test/${backend}/${n}`);
    const opt = new AdamW(new Map([['p', p]]), { weightDecay: 0.01 }, new Map([['p', 3]]));
    const lr = 1e-3 * 3;
    const m = new Array<number>(n).fill(0);
    const v = new Array<number>(n).fill(0);
    const ref = [...p0];
    grads.forEach((g, step) => {
      const gt = tf.tensor1d(g);
      opt.apply({ p: gt }, 1e-3);
      gt.dispose();
      const t = step + 1;
      for (let i = 0; i < n; i++) {
        ref[i]! *= 1 - lr * 0.01;
        m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
        v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
        const mh = m[i]! / (1 - 0.9 ** t);
        const vh = v[i]! / (1 - 0.999 ** t);
        ref[i]! -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    });
    Array.from(p.dataSync()).forEach((x, i) =>
      assert.ok(Math.abs(x - ref[i]!) < 1e-6, `${backend} n=${n} [${i}]: ${x} vs ${ref[i]}`),
    );
    opt.dispose();
    p.dispose();
  }
});

test('an optimizer step reads the device once, however many micro-batches; its loss is the micro-batches weighted by clips', async () => {
  await tf.setBackend('cpu');
  const { trainStep } = await import('../src/train/train-step.js');
  const { trainedParams } = await import('../src/train/step.js');
  const { AdamW } = await import('../src/train/adamw.js');
  const w = tf.variable(tf.randomNormal([6, 5], 0, 1, 'float32', 11), true, 'read-test/w');
  const head = tf.variable(tf.randomNormal([3, 5], 0, 1, 'float32', 12), true, 'read-test/head');
  const cls = createLossRegistries().classificationLosses.get('arcface')(
    ClassificationLossConfig.parse({ name: 'arcface' }),
    3,
    5,
    0,
  );
  const objective: StepSystem['objective'] = (inputs, targets) => {
    const total = cls.compute(tf.matMul(inputs.wave, w) as tf.Tensor2D, head as tf.Tensor as tf.Tensor2D, targets);
    return { total, terms: { cls: total, twice: total.mul(2) as tf.Scalar } };
  };
  const system = {
    objective,
    trainable: () =>
      new Map<string, tf.Variable>([
        ['w', w],
        ['head', head],
      ]),
    lrMultipliers: () => new Map<string, number>(),
    adamEpsilons: () => new Map<string, number>(),
  };
  const waves = tf.randomNormal([7, 6], 0, 1, 'float32', 13).arraySync() as number[][];
  const clips = {
    samples: 6,
    nMels: 1,
    frames: 1,
    wave: (i: number) => Float32Array.from(waves[i]!),
    logmel: () => new Float32Array(1),
  };
  const classIndex = Int32Array.from([0, 2, 1, 2, 0, 1, 1]);
  const rows = [0, 1, 2, 3, 4, 5, 6];
  // Expected: each micro-batch of the 3 + 2 + 2 split on its own, read one by one.
  const expected = { loss: 0, cls: 0, twice: 0 };
  for (const part of [
    [0, 1, 2],
    [3, 4],
    [5, 6],
  ]) {
    const lab = tf.tensor1d(
      part.map((r) => classIndex[r]!),
      'int32',
    );
    const wave = tf.tensor2d(part.map((r) => waves[r]!));
    const r = await accumulateGradients(
      system,
      [w, head],
      { wave, logmel: tf.zeros([part.length, 1, 1]) },
      { labelsA: lab, labelsB: lab, lam: 1 },
      part.length / 7,
      new Map(),
    );
    expected.loss += r.loss * (part.length / 7);
    expected.cls += r.terms.cls! * part.length;
    expected.twice += r.terms.twice! * part.length;
  }
  const params = trainedParams(system as never);
  const rig = {
    system: system as never,
    params,
    optimizer: new AdamW(params.params, { weightDecay: 0.01 }, params.multipliers, params.epsilons),
    clips,
    classIndex,
    micro: 3,
  };
  const proto = tf.Tensor.prototype as unknown as { data: () => Promise<unknown> };
  const original = proto.data;
  let reads = 0;
  proto.data = function (this: tf.Tensor) {
    reads++;
    return original.call(this);
  };
  const termSums: Record<string, number> = {};
  let loss: number;
  try {
    loss = await trainStep(rig, { rows, partners: rows, lam: 1, mixup: false }, 1e-3, { where: 'in a test', termSums });
  } finally {
    proto.data = original;
  }
  assert.equal(reads, 1, 'one read for the step');
  assert.equal(loss, expected.loss);
  assert.deepEqual(termSums, { cls: expected.cls, twice: expected.twice });
  rig.optimizer.dispose();
});
