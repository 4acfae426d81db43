import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { accumulateGradients, type StepSystem } from '../src/train/step.js';
import { epochBatches, microBatches, type Range } from '../src/train/plan.js';
import { etaMinOf, learningRate } from '../src/train/schedule.js';
import { AdamW } from '../src/train/adamw.js';
import { PooledBatchMoments } from '../src/model/batch-moments.js';
import { batchNorm, batchNormPrelu, type BatchNormParams } from '../src/model/nn.js';
import { createLossRegistries } from '../src/losses/registry.js';
import {
  ClassificationLossConfig,
  ExperimentConfig,
  MetricLossConfig,
  configHash,
  upgradeStoredConfig,
} from '../src/config/index.js';
import { initBackend } from '../src/backend/select.js';

/** Checks that ranges tile [0, n) in order. */
function assertTiles(ranges: readonly Range[], n: number): void {
  let at = 0;
  for (const [s, e] of ranges) {
    assert.equal(s, at);
    assert.ok(e > s);
    at = e;
  }
  assert.equal(at, n);
}

test('epoch batches: every clip once; the partial last batch kept (a 1-clip remainder joins the previous batch) unless dropLast', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 300 }), fc.integer({ min: 2, max: 70 }), (count, batch) => {
      const size = Math.min(batch, count);
      const kept = epochBatches(count, batch, false);
      assertTiles(kept, count);
      for (const [s, e] of kept) assert.ok(e - s >= 2 && e - s <= size + 1, `batch of ${e - s} (size ${size})`);
      assert.equal(kept.length, Math.floor(count / size) + (count % size >= 2 ? 1 : 0));
      const dropped = epochBatches(count, batch, true);
      assert.equal(dropped.length, Math.floor(count / size));
      for (const [s, e] of dropped) assert.equal(e - s, size);
    }),
  );
  assert.deepEqual(epochBatches(17, 8, false), [
    [0, 8],
    [8, 17],
  ]);
  assert.deepEqual(epochBatches(18, 8, false), [
    [0, 8],
    [8, 16],
    [16, 18],
  ]);
  assert.deepEqual(epochBatches(18, 8, true), [
    [0, 8],
    [8, 16],
  ]);
  assert.deepEqual(epochBatches(5, 64, false), [[0, 5]]);
});

test('micro-batches: at most `micro` clips, sizes within one of each other, never a single clip when the batch is split', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 200 }), fc.integer({ min: 2, max: 64 }), (n, micro) => {
      const parts = microBatches(n, micro);
      assertTiles(parts, n);
      const sizes = parts.map(([s, e]) => e - s);
      assert.ok(Math.max(...sizes) <= (micro === 2 && n % 2 === 1 ? 3 : micro));
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
      assert.ok(Math.min(...sizes) >= 2);
    }),
  );
  assert.deepEqual(
    microBatches(64, 8).map(([s, e]) => e - s),
    Array(8).fill(8),
  );
  assert.deepEqual(
    microBatches(17, 8).map(([s, e]) => e - s),
    [6, 6, 5],
  );
  assert.deepEqual(
    microBatches(5, 2).map(([s, e]) => e - s),
    [3, 2],
  );
  assert.deepEqual(
    microBatches(16, 40).map(([s, e]) => e - s),
    [16],
  );
});

/** Mean and unbiased variance of each channel of a row-major [rows, c] array, in float64. */
function channelMoments(xs: Float32Array | number[], c: number): { mean: number[]; unbiased: number[] } {
  const n = xs.length / c;
  const mean = Array.from({ length: c }, (_, ch) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[i * c + ch]!;
    return s / n;
  });
  const unbiased = mean.map((m, ch) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (xs[i * c + ch]! - m) ** 2;
    return s / (n - 1);
  });
  return { mean, unbiased };
}

function bnParams(c: number, tag: string): BatchNormParams {
  return {
    gamma: tf.variable(tf.fill([c], 1.2), true, `fid/${tag}/gamma`),
    beta: tf.variable(tf.fill([c], -0.1), true, `fid/${tag}/beta`),
    runningMean: tf.variable(tf.fill([c], 0.3), false, `fid/${tag}/rm`),
    runningVar: tf.variable(tf.fill([c], 2), false, `fid/${tag}/rv`),
  };
}

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * (1 + Math.abs(b));

test("pooled BatchNorm moments over any split equal the whole batch's mean and unbiased variance (property, independent float64 formula)", async () => {
  await tf.setBackend('cpu');
  let k = 0;
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 1, max: 4 }),
      fc.double({ min: -50, max: 50, noNaN: true }),
      fc.integer({ min: 0, max: 1e6 }),
      (counts, c, offset, seed) => {
        const total = counts.reduce((a, b) => a + b, 0);
        fc.pre(total >= 2);
        const xs = Array.from(
          { length: total * c },
          (_, i) => offset + 3 * Math.sin(seed + i * 12.9898) * ((i % c) + 1),
        );
        const p = bnParams(c, `prop${k++}`);
        const pooled = new PooledBatchMoments();
        let row = 0;
        for (const n of counts) {
          tf.tidy(() => {
            const part = tf.tensor2d(xs.slice(row * c, (row + n) * c), [n, c]);
            const { mean, variance } = tf.moments(part, 0);
            pooled.add(p, mean, variance, n);
          });
          row += n;
        }
        pooled.commit(0.1);
        const want = channelMoments(xs, c);
        const rm = p.runningMean.dataSync();
        const rv = p.runningVar.dataSync();
        for (let ch = 0; ch < c; ch++) {
          assert.ok(
            close(rm[ch]!, 0.9 * 0.3 + 0.1 * want.mean[ch]!, 1e-5),
            `mean ${rm[ch]} vs ${0.9 * 0.3 + 0.1 * want.mean[ch]!}`,
          );
          assert.ok(
            close(rv[ch]!, 0.9 * 2 + 0.1 * want.unbiased[ch]!, 1e-4),
            `var ${rv[ch]} vs ${0.9 * 2 + 0.1 * want.unbiased[ch]!}`,
          );
        }
        tf.dispose(Object.values(p));
      },
    ),
    { numRuns: 60 },
  );
});

test('a step in micro-batches updates the BatchNorm running statistics once, as one whole-batch step (cpu and the fused wasm kernels)', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const [b, h, w, c] = [12, 3, 4, 5];
    const xs = Float32Array.from(
      { length: b * h * w * c },
      (_, i) => Math.sin(i * 0.37) * 2 + (i % c) * 0.5 + (Math.floor(i / (h * w * c)) % 3),
    );
    const x = tf.tensor4d(xs, [b, h, w, c]);
    const run = async (parts: Range[], tag: string) => {
      // Two BatchNorms on the input: plain and with PReLU (on wasm, the two fused kernels).
      const bn1 = bnParams(c, `${backend}/${tag}/a`);
      const bn2 = bnParams(c, `${backend}/${tag}/b`);
      const alpha = tf.variable(tf.fill([c], 0.25), true, `fid/${backend}/${tag}/alpha`);
      const head = tf.variable(tf.randomNormal([3, c], 0, 1, 'float32', 8), true, `fid/${backend}/${tag}/head`);
      const cls = createLossRegistries().classificationLosses.get('arcface')(
        ClassificationLossConfig.parse({ name: 'arcface' }),
        3,
        c,
        0,
      );
      const system: StepSystem = {
        objective: (inputs, targets, ctx) => {
          const x4 = inputs.logmel.reshape([-1, h, w, c]) as tf.Tensor4D;
          const y = batchNorm(x4, bn1, ctx).add(batchNormPrelu(x4, bn2, alpha as tf.Tensor as tf.Tensor1D, ctx));
          const total = cls.compute(tf.mean(y, [1, 2]) as tf.Tensor2D, head as tf.Tensor as tf.Tensor2D, targets);
          return { total, terms: { cls: total } };
        },
      };
      const acc = new Map<string, tf.Tensor>();
      const moments = new PooledBatchMoments();
      for (const [s, e] of parts) {
        const logmel = x.slice([s, 0, 0, 0], [e - s, h, w, c]).reshape([e - s, h, w * c]) as tf.Tensor3D;
        const labels = tf.tensor1d(
          Array.from({ length: e - s }, (_, i) => (s + i) % 3),
          'int32',
        );
        const wave = tf.zeros([e - s, 1]) as tf.Tensor2D;
        await accumulateGradients(
          system,
          [bn1.gamma, bn1.beta, bn2.gamma, bn2.beta, alpha, head],
          { wave, logmel },
          { labelsA: labels, labelsB: labels, lam: 1 },
          (e - s) / b,
          acc,
          moments,
        );
        tf.dispose([logmel, labels, wave]);
      }
      moments.commit();
      tf.dispose([...acc.values()]);
      const out = [bn1, bn2].map((p) => ({
        mean: Array.from(p.runningMean.dataSync()),
        var: Array.from(p.runningVar.dataSync()),
      }));
      tf.dispose([...Object.values(bn1), ...Object.values(bn2), alpha, head]);
      return out;
    };
    const whole = await run([[0, b]], 'whole');
    const micro = await run(microBatches(b, 4), 'micro');
    const uneven = await run(
      [
        [0, 2],
        [2, 9],
        [9, 12],
      ],
      'uneven',
    );
    // Independent: PyTorch's update from the whole batch, momentum 0.1, unbiased variance.
    const want = channelMoments(xs, c);
    for (const got of [whole, micro, uneven]) {
      for (const layer of got) {
        for (let ch = 0; ch < c; ch++) {
          assert.ok(
            close(layer.mean[ch]!, 0.9 * 0.3 + 0.1 * want.mean[ch]!, 1e-5),
            `${backend} mean[${ch}] ${layer.mean[ch]} vs ${0.9 * 0.3 + 0.1 * want.mean[ch]!}`,
          );
          assert.ok(
            close(layer.var[ch]!, 0.9 * 2 + 0.1 * want.unbiased[ch]!, 1e-5),
            `${backend} var[${ch}] ${layer.var[ch]} vs ${0.9 * 2 + 0.1 * want.unbiased[ch]!}`,
          );
        }
      }
    }
    x.dispose();
  }
  await tf.setBackend('cpu');
});

test('cosine floor: 0.1 x lr by default (TASTgram), train.etaMin an absolute override; CosineAnnealingLR shape', () => {
  const cfg = { lr: 1e-4, etaMin: null, etaMinRatio: 0.1, epochs: 300, schedule: 'cosine' as const };
  assert.equal(learningRate(cfg, 0), 1e-4);
  assert.ok(Math.abs(learningRate(cfg, 300) - 1e-5) < 1e-12);
  assert.ok(Math.abs(learningRate(cfg, 150) - 5.5e-5) < 1e-12);
  for (let e = 1; e <= 300; e++) assert.ok(learningRate(cfg, e) <= learningRate(cfg, e - 1));
  assert.equal(learningRate({ ...cfg, schedule: 'constant' }, 123), 1e-4);
  // The quick profile's lr 1e-3: the floor follows lr.
  assert.ok(Math.abs(etaMinOf({ ...cfg, lr: 1e-3 }) - 1e-4) < 1e-15);
  assert.ok(Math.abs(learningRate({ ...cfg, lr: 1e-3, epochs: 4 }, 4) - 1e-4) < 1e-15);
  // An explicit absolute floor wins over the ratio (and is capped at lr).
  assert.equal(etaMinOf({ ...cfg, lr: 1e-3, etaMin: 1e-5 }), 1e-5);
  assert.equal(etaMinOf({ ...cfg, lr: 1e-6, etaMin: 1e-5 }), 1e-6);
  assert.equal(etaMinOf({ ...cfg, etaMinRatio: 0 }), 0);
  const parsed = ExperimentConfig.parse({});
  assert.equal(parsed.train.etaMin, null);
  assert.equal(parsed.train.etaMinRatio, 0.1);
  assert.equal(parsed.train.dropLast, false);
  assert.equal(parsed.loss.metric?.eps, 1e-8);
});

test("a config stored before etaMinRatio, dropLast and loss.metric.eps reads back as it ran; its stored hash is not a new config's", () => {
  const current = ExperimentConfig.parse({ train: { lr: 1e-3 } });
  // What the previous schema stored: etaMin 1e-5 always present, none of the new keys.
  const old = structuredClone(current) as unknown as {
    train: Record<string, unknown>;
    loss: { metric: Record<string, unknown> | null };
  };
  old.train['etaMin'] = 1e-5;
  delete old.train['etaMinRatio'];
  delete old.train['dropLast'];
  delete old.loss.metric!['eps'];
  const storedHash = configHash(old);
  const read = upgradeStoredConfig(old);
  assert.equal(etaMinOf(read.train), 1e-5);
  assert.equal(read.train.dropLast, true);
  assert.equal(read.loss.metric?.eps, 1e-8);
  assert.equal(configHash(old), storedHash, 'the stored object is not modified');
  assert.notEqual(configHash(current), storedHash);
  // A metric loss switched off stays off; keys already present are kept.
  const off = upgradeStoredConfig({
    ...old,
    loss: { ...old.loss, metric: null },
    train: { ...old.train, dropLast: false },
  });
  assert.equal(off.loss.metric, null);
  assert.equal(off.train.dropLast, false);
  // New configs round-trip unchanged.
  assert.equal(configHash(upgradeStoredConfig(current)), configHash(current));
});

test('the SoftTriple centres get loss.metric.eps in their Adam update; other weights keep 1e-8 (cpu and wasm)', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const g = [0.003, -0.2, 1e-5, 0];
    const centres = tf.variable(tf.tensor1d([0.5, -0.5, 0.1, 0.2]), true, `fid/eps/${backend}/c`);
    const other = tf.variable(tf.tensor1d([0.5, -0.5, 0.1, 0.2]), true, `fid/eps/${backend}/o`);
    const opt = new AdamW(
      new Map([
        ['c', centres],
        ['o', other],
      ]),
      { weightDecay: 0 },
      new Map([['c', 100]]),
      new Map([['c', 0.01]]),
    );
    const gt = tf.tensor1d(g);
    opt.apply({ c: gt, o: gt }, 1e-3);
    // First Adam step: m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps).
    const c = centres.dataSync();
    const o = other.dataSync();
    [0.5, -0.5, 0.1, 0.2].forEach((p0, i) => {
      assert.ok(
        Math.abs(c[i]! - (p0 - (0.1 * g[i]!) / (Math.abs(g[i]!) + 0.01))) < 1e-6,
        `${backend} centre[${i}] ${c[i]}`,
      );
      assert.ok(
        Math.abs(o[i]! - (p0 - (1e-3 * g[i]!) / (Math.abs(g[i]!) + 1e-8))) < 1e-6,
        `${backend} other[${i}] ${o[i]}`,
      );
    });
    tf.dispose([gt, centres, other]);
    opt.dispose();
  }
  await tf.setBackend('cpu');
  const loss = createLossRegistries().metricLosses.get('softtriple')(MetricLossConfig.parse({ eps: 0.01 }), 3, 4, 0);
  assert.equal(loss.eps, 0.01);
});
