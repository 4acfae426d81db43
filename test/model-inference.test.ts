import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { rand } from './fixtures/fused-check.js';
import { initBackend } from '../src/backend/select.js';
import { validateExperiment, type ExperimentConfig } from '../src/config/index.js';
import { buildModel } from '../src/parts/container.js';
import { matMulBiasAct } from '../src/backend/kernels/matmul-epilogue.js';
import { depthwiseBiasAct } from '../src/backend/kernels/depthwise-fwd.js';
import { foldBatchNorm } from '../src/model/inference/fold.js';
import { FoldCache } from '../src/model/inference/cache.js';
import { BN_EPS, type BatchNormParams } from '../src/model/nn.js';
import type { AsdModel, ModelInputs } from '../src/model/types.js';
import { SpecNetBranch } from '../src/model/branches/specnet.js';
import { FgaSpecBranch } from '../src/model/branches/fga-spec.js';

/**
 * The evaluation-mode model (src/model/inference: BatchNorm folded into the convs, PReLU and
 * residuals fused into the products) against the model's own forward with training false, and
 * each fused kernel against the unfused ops on tfjs's cpu backend (an independent implementation).
 */

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** Runs `f` on the cpu backend (the unfused reference path) and on wasm (our kernels). */
async function onBoth(f: () => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array }> {
  const out: Float32Array[] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const y = tf.tidy(f);
    out.push(y.dataSync() as Float32Array);
    y.dispose();
  }
  return { cpu: out[0]!, wasm: out[1]! };
}

test('prelu(a w + bias) + res in one wasm kernel equals the separate ops on cpu (tails, K chunks, optional parts)', async () => {
  // M not a multiple of 4, N with full and partial 8-column strips, K below 4 and above one 128 chunk.
  const shapes: Array<[number, number, number]> = [
    [37, 64, 128],
    [10, 3, 13],
    [129, 300, 20],
    [4, 1, 8],
    [64, 129, 7],
    // the last strip zero-padded: 5 columns (one full vector and one lane), K over two chunks.
    [45, 140, 13],
  ];
  for (const [m, k, n] of shapes) {
    for (const [withAlpha, withRes] of [
      [true, false],
      [false, false],
      [false, true],
      [true, true],
    ] as const) {
      const { cpu, wasm } = await onBoth(() => {
        const a = tf.tensor2d(rand(m * k, 1), [m, k]);
        const w = tf.tensor2d(rand(k * n, 2), [k, n]);
        const bias = tf.tensor1d(rand(n, 3));
        const alpha = withAlpha ? tf.tensor1d(rand(n, 4, 0, 0.5)) : undefined;
        const res = withRes ? tf.tensor2d(rand(m * n, 5), [m, n]) : undefined;
        return matMulBiasAct(a, w, bias, alpha, res);
      });
      const d = maxAbsDiff(cpu, wasm);
      assert.ok(
        d <= 1e-5 * Math.max(1, maxAbs(cpu)) * Math.sqrt(k),
        `[${m}, ${k}] x [${k}, ${n}] alpha ${withAlpha} res ${withRes}: max |diff| ${d}`,
      );
      if (withAlpha)
        assert.ok(
          cpu.some((v) => v < 0),
          'the case exercises negative PReLU inputs',
        );
    }
  }
});

test("3 x 3 depthwise conv with bias and PReLU in one wasm pass equals tfjs's depthwise conv + bias + PReLU on cpu", async () => {
  // Odd and even sizes, strides 1 and 2, padding 1 and 0, a map narrower than the kernel's
  // interior, channel counts in fours (the kernel's) and not (tfjs's kernel then). Rows of 13 and
  // 21 columns: two 4-pixel tiles plus single pixels between the border columns; stride 2 walks
  // channel blocks, except with 512 channels (a 4 KB step: pixel tiles too).
  const cases: Array<[number, number, number, number, number]> = [
    [9, 7, 8, 1, 1],
    [10, 12, 4, 2, 1],
    [5, 3, 12, 2, 0],
    [2, 2, 8, 1, 1],
    [1, 9, 4, 1, 1],
    [6, 5, 6, 1, 1],
    [7, 13, 12, 1, 1],
    [1, 13, 8, 1, 1],
    [9, 21, 8, 2, 1],
    [4, 21, 512, 2, 1],
    [3, 13, 8, 1, 0],
  ];
  for (const [h, w, c, stride, pad] of cases) {
    for (const withAlpha of [true, false]) {
      const { cpu, wasm } = await onBoth(() => {
        const x = tf.tensor4d(rand(2 * h * w * c, 41), [2, h, w, c]);
        const f = tf.tensor4d(rand(9 * c, 42), [3, 3, c, 1]);
        const bias = tf.tensor1d(rand(c, 43));
        const alpha = withAlpha ? tf.tensor1d(rand(c, 44, 0, 0.5)) : undefined;
        return depthwiseBiasAct(x, f, bias, stride, pad, alpha);
      });
      const d = maxAbsDiff(cpu, wasm);
      assert.ok(d <= 1e-5, `[2, ${h}, ${w}, ${c}] stride ${stride} pad ${pad} alpha ${withAlpha}: max |diff| ${d}`);
    }
  }
  // The global embedding conv (8 x 4 filter over an 8 x 4 map; 20 channels: blocks of 16 and 4).
  for (const withAlpha of [true, false]) {
    const { cpu, wasm } = await onBoth(() => {
      const x = tf.tensor4d(rand(3 * 8 * 4 * 20, 47), [3, 8, 4, 20]);
      const f = tf.tensor4d(rand(8 * 4 * 20, 48), [8, 4, 20, 1]);
      const alpha = withAlpha ? tf.tensor1d(rand(20, 49, 0, 0.5)) : undefined;
      return depthwiseBiasAct(x, f, tf.tensor1d(rand(20, 50)), 1, 0, alpha);
    });
    assert.ok(maxAbsDiff(cpu, wasm) <= 1e-5, `global depthwise conv, alpha ${withAlpha}`);
  }
  // The plain forward (training's) through the same pass: tf.depthwiseConv2d on wasm against cpu.
  const { cpu, wasm } = await onBoth(() =>
    tf.depthwiseConv2d(
      tf.tensor4d(rand(3 * 11 * 8 * 16, 45), [3, 11, 8, 16]),
      tf.tensor4d(rand(9 * 16, 46), [3, 3, 16, 1]),
      2,
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ] as unknown as 'valid',
    ),
  );
  assert.ok(maxAbsDiff(cpu, wasm) <= 1e-5);
});

test('Reverse as block copies on wasm equals cpu: each axis of a 3-D tensor, a last axis, two axes (the original)', async () => {
  for (const dims of [0, 1, 2, -2, [0, 2], [1]] as Array<number | number[]>) {
    const { cpu, wasm } = await onBoth(() => tf.reverse(tf.tensor3d(rand(3 * 5 * 4, 51), [3, 5, 4]), dims));
    assert.deepEqual(wasm, cpu, `dims ${JSON.stringify(dims)}`);
  }
});

function bnParams(c: number, seed: number): BatchNormParams {
  return {
    gamma: tf.variable(tf.tensor1d(rand(c, seed, 0.5, 1.5))),
    beta: tf.variable(tf.tensor1d(rand(c, seed + 1))),
    runningMean: tf.variable(tf.tensor1d(rand(c, seed + 2))),
    runningVar: tf.variable(tf.tensor1d(rand(c, seed + 3, 0.2, 2))),
  };
}

test('a BatchNorm folded into the conv before it: conv(x, w s) + b equals batchNorm(conv(x, w)) with the running statistics', async () => {
  await initBackend('cpu');
  const x = tf.tensor4d(rand(2 * 9 * 7 * 6, 11), [2, 9, 7, 6]);
  for (const depthwise of [false, true]) {
    const cout = depthwise ? 6 : 5;
    const w = tf.tensor4d(rand(3 * 3 * 6 * (depthwise ? 1 : cout), 12), [3, 3, 6, depthwise ? 1 : cout]);
    const bn = bnParams(cout, 20);
    const conv = (filter: tf.Tensor4D) =>
      depthwise ? tf.depthwiseConv2d(x, filter, 2, 'valid') : tf.conv2d(x, filter, 2, 'valid');
    const ref = tf.batchNorm(conv(w), bn.runningMean, bn.runningVar, bn.beta, bn.gamma, BN_EPS);
    const folded = foldBatchNorm(w, bn, depthwise);
    const got = tf.add(conv(folded.w), folded.bias);
    const d = maxAbsDiff(ref.dataSync() as Float32Array, got.dataSync() as Float32Array);
    assert.ok(d < 1e-5, `depthwise ${depthwise}: max |diff| ${d}`);
    tf.dispose([w, ref, got, folded.w, folded.bias, ...Object.values(bn)]);
  }
  x.dispose();
});

/** 0.5 s clips and 32 mel bins: every module of FGASpecNet at a size a test can run. */
function tiny(): ExperimentConfig {
  return validateExperiment({ data: { seconds: 0.5 }, features: { logmel: { nMels: 32 } } }, 'test');
}

/** Running statistics, BatchNorm affine weights and PReLU slopes away from their initial values, so folding has something to fold. */
function perturb(model: AsdModel): void {
  let seed = 100;
  for (const [key, v] of [...model.state(), ...model.trainable()]) {
    const n = v.size;
    if (key.endsWith('/runningVar')) v.assign(tf.tensor(rand(n, seed++, 0.3, 2), v.shape));
    else if (/\/(runningMean|beta)$/.test(key)) v.assign(tf.tensor(rand(n, seed++, -0.3, 0.3), v.shape));
    else if (key.endsWith('/bn/gamma') || (key.endsWith('/gamma') && key.includes('/bn')))
      v.assign(tf.tensor(rand(n, seed++, 0.5, 1.5), v.shape));
    else if (key.endsWith('/prelu')) v.assign(tf.tensor(rand(n, seed++, -0.2, 0.6), v.shape));
  }
}

function inputs(model: AsdModel, batch: number): ModelInputs {
  const { samples, nMels, frames } = model.clip;
  return {
    wave: tf.tensor2d(rand(batch * samples, 31, -0.1, 0.1), [batch, samples]),
    logmel: tf.tensor3d(rand(batch * nMels * frames, 32, -60, -10), [batch, nMels, frames]),
  };
}

test('the folded FGASpecNet embeds as the model in evaluation mode, on wasm and on cpu (to float rounding)', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    const model = buildModel(tiny(), 7);
    perturb(model);
    const x = inputs(model, 3);
    const ref = model.embed(x, { training: false, updates: [] });
    const folded = model.fold();
    const got = folded.embed(x);
    const [r, g] = [ref.dataSync() as Float32Array, got.dataSync() as Float32Array];
    const d = maxAbsDiff(r, g);
    assert.ok(maxAbs(r) > 0.1, 'a non-trivial embedding');
    assert.ok(d <= 2e-5 * maxAbs(r), `${backend}: max |diff| ${d} of max |embedding| ${maxAbs(r)}`);
    // Input checks are the model's own.
    assert.throws(
      () => folded.embed({ wave: x.wave, logmel: tf.zeros([3, 16, model.clip.frames]) as tf.Tensor3D }),
      /logmel has shape/,
    );
    folded.dispose();
    tf.dispose([ref, got, x.wave, x.logmel]);
    model.dispose();
  }
});

test('the fold cache refolds exactly when a weight or running statistic is assigned, and frees what it folded', async () => {
  await initBackend('wasm');
  const model = buildModel(tiny(), 7);
  const x = inputs(model, 2);
  const cache = new FoldCache();
  // Scoring folds inside its tidy on the first batch: the fold must outlive that scope.
  const first = tf.tidy(() => cache.get(model));
  const before = first.embed(x);
  const tensors = tf.memory().numTensors;
  assert.equal(cache.get(model), first, 'unchanged weights: the same folded model');
  assert.equal(tf.memory().numTensors, tensors);
  // A running statistic changes (as a training step's BatchNorm update does): the fold must follow.
  const [key, v] = [...model.state()].find(([k]) => k.endsWith('head/embed/bn/runningMean'))!;
  const moved = tf.add(v, 1);
  v.assign(moved);
  moved.dispose();
  const second = cache.get(model);
  assert.notEqual(second, first, `${key} changed: refolded`);
  assert.equal(tf.memory().numTensors, tensors, 'the old fold was freed');
  const after = second.embed(x);
  const ref = model.embed(x, { training: false, updates: [] });
  assert.ok(
    maxAbsDiff(after.dataSync() as Float32Array, before.dataSync() as Float32Array) > 0.1,
    'the new statistics show in the embedding',
  );
  assert.ok(maxAbsDiff(after.dataSync() as Float32Array, ref.dataSync() as Float32Array) < 1e-4);
  tf.dispose([before, after, ref, x.wave, x.logmel]);
  cache.dispose();
  model.dispose();
});

test('folded SpecNet and FGA-SpecNet (half-spectrum DFT, BatchNorm and tanh folded) equal the branches in evaluation mode, odd and even T', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    for (const [m, t] of [
      [16, 13],
      [12, 16],
      [128, 313],
    ] as const) {
      const clip = { sampleRate: 16000, samples: (t - 1) * 512, hop: 512, nMels: m, frames: t };
      for (const branch of [
        new SpecNetBranch('spec', 3, clip),
        new FgaSpecBranch('fga', 4, clip, { lambda: 0.5, timeKernel: 3 }),
      ]) {
        // Weights large enough that the spectral correction is far from zero, statistics away from 0 / 1.
        let seed = 200;
        for (const [key, v] of [...branch.trainable(), ...branch.state()]) {
          const [lo, hi] = key.endsWith('runningVar') ? [0.5, 3] : key.includes('/c') ? [-2, 2] : [-0.5, 0.5];
          v.assign(tf.tensor(rand(v.size, seed++, lo, hi), v.shape));
        }
        const b = t > 100 ? 2 : 3;
        const x: ModelInputs = {
          wave: tf.zeros([b, clip.samples]) as tf.Tensor2D,
          logmel: tf.tensor3d(rand(b * m * t, 9, -2, 2), [b, m, t]),
        };
        const ref = branch.apply(x, { training: false, updates: [] });
        const folded = branch.fold();
        const got = folded.apply(x);
        // Compare the correction F_S - F_LM (the branch adds F_LM, which would hide errors in it).
        const [r, g] = [tf.sub(ref, x.logmel), tf.sub(got, x.logmel)].map((d) => d.dataSync() as Float32Array) as [
          Float32Array,
          Float32Array,
        ];
        const d = maxAbsDiff(r, g);
        assert.ok(maxAbs(r) > 1e-3, `${backend} ${branch.name} ${m} x ${t}: a non-trivial correction (${maxAbs(r)})`);
        assert.ok(
          d <= 1e-4 * maxAbs(r),
          `${backend} ${branch.name} ${m} x ${t}: max |diff| ${d} of max |correction| ${maxAbs(r)}`,
        );
        folded.dispose();
        tf.dispose([ref, got, x.wave, x.logmel]);
        branch.dispose();
      }
    }
  }
});
