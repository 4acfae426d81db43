import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { parseOverride, type ExperimentConfig } from '../src/config/index.js';
import { loadExperiment, validateExperiment } from '../src/parts/experiment.js';
import { buildModel } from '../src/parts/container.js';
import { clipGeometry } from '../src/registry/container.js';
import { applyUpdates } from '../src/model/nn.js';
import { MobileFaceNet } from '../src/model/backbones/mobilefacenet.js';
import { TgramBranch } from '../src/model/branches/tgram.js';
import type { AsdModel, ForwardContext, ModelInputs } from '../src/model/types.js';
import { UserError } from '../src/util/errors.js';

await tf.setBackend('cpu');

/** Random inputs; log-Mel in dB by default, or unit-scale (where dB values would saturate the
 *  FGA sigmoid gates and their gradients underflow in float32). */
function inputs(model: AsdModel, batch: number, seed = 1, db = true): ModelInputs {
  const { samples, nMels, frames } = model.clip;
  return {
    wave: tf.randomNormal([batch, samples], 0, 0.1, 'float32', seed) as tf.Tensor2D,
    logmel: tf.randomNormal([batch, nMels, frames], db ? -40 : 0, db ? 10 : 1, 'float32', seed + 1) as tf.Tensor3D,
  };
}

/** A cheap geometry for gradient steps on the cpu backend: 32 mel bins, 0.5 s (16 frames). */
function tiny(overrides: Record<string, unknown> = {}): ExperimentConfig {
  return validateExperiment({ data: { seconds: 0.5 }, features: { logmel: { nMels: 32 }, ...overrides } }, 'test');
}

test('10 s clips: 313 frames, Tgram output [B, 128, 313], backbone head kernel 8 x 20', () => {
  const cfg = validateExperiment({}, 'test');
  const clip = clipGeometry(cfg);
  assert.deepEqual([clip.samples, clip.nMels, clip.frames], [160000, 128, 313]);
  const tgram = new TgramBranch('tgram', 0, clip);
  const wave = tf.randomNormal([1, 160000], 0, 0.1, 'float32', 3) as tf.Tensor2D;
  const out = tgram.apply({ wave, logmel: tf.zeros([1, 128, 313]) as tf.Tensor3D }, { training: false, updates: [] });
  assert.deepEqual(out.shape, [1, 128, 313]);
  tf.dispose([out, wave]);
  tgram.dispose();
  const mfn = new MobileFaceNet('mobilefacenet', 0, {
    inChannels: 4,
    height: 128,
    width: 313,
    embeddingDim: 128,
    bottlenecks: 'current',
  });
  assert.deepEqual(mfn.finalMap, [8, 20]);
  assert.deepEqual(mfn.trainable().get('mobilefacenet/head/gdc/w')!.shape, [8, 20, 512, 1]);
  mfn.dispose();
});

test('shorter clips: T follows the clip length through every module', () => {
  for (const seconds of [1, 2]) {
    const model = buildModel(validateExperiment({ data: { seconds } }, 'test'), 41);
    const T = 1 + Math.floor((seconds * 16000) / 512);
    assert.equal(model.clip.frames, T);
    const x = inputs(model, 2);
    tf.tidy(() => {
      for (const b of model.branches) assert.deepEqual(b.apply(x, { training: false, updates: [] }).shape, [2, 128, T]);
      assert.deepEqual(model.embed(x, { training: false, updates: [] }).shape, [2, 128]);
    });
    tf.dispose([x.wave, x.logmel]);
    model.dispose();
  }
});

test('every experiment config builds and runs a forward pass (1 s clips)', () => {
  const files = readdirSync('experiments').filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 3);
  for (const f of files) {
    const cfg = loadExperiment(`experiments/${f}`, [parseOverride('data.seconds=1')]);
    const model = buildModel(cfg, 41);
    const x = inputs(model, 2);
    const emb = model.embed(x, { training: false, updates: [] });
    assert.deepEqual(emb.shape, [2, cfg.model.embeddingDim], f);
    assert.ok(emb.dataSync().every(Number.isFinite), `${f}: non-finite embedding`);
    assert.equal(model.branches.length, cfg.features.branches.length);
    tf.dispose([emb, x.wave, x.logmel]);
    model.dispose();
  }
});

/** Loss on the embedding and the head, as the trainer's: every weight is on a gradient path. */
function simpleLoss(model: AsdModel, x: ModelInputs, ctx: ForwardContext): tf.Scalar {
  const emb = model.embed(x, ctx);
  const logits = tf.matMul(emb, model.head.weight as tf.Tensor as tf.Tensor2D, false, true);
  return tf.add(tf.mean(tf.square(emb)), tf.mean(tf.square(tf.sub(logits, 1)))) as tf.Scalar;
}

for (const branches of [
  ['logmel', 'tgram', 'tagram', 'fga-spec'],
  ['logmel', 'tgram', 'tagram', 'specnet'],
]) {
  test(`a gradient step changes every trainable weight (${branches.join(', ')}); SpecNet and FGA get nonzero gradients`, () => {
    const model = buildModel(tiny({ branches }), 5);
    const x = inputs(model, 2, 1, false);
    const vars = model.trainable();
    const before = new Map([...vars].map(([k, v]) => [k, v.dataSync().slice()]));
    const ctx: ForwardContext = { training: true, updates: [] };
    const { value, grads } = tf.variableGrads(() => simpleLoss(model, x, ctx), [...vars.values()]);
    assert.equal(Object.keys(grads).length, vars.size, 'a weight got no gradient');
    for (const [name, v] of vars) {
      const g = grads[v.name]!;
      if (/\/(c[12]|gate)\//.test(name)) {
        assert.ok(tf.max(tf.abs(g)).dataSync()[0]! > 0, `${name}: zero gradient`);
      }
      // A sign step, as Adam's early updates: moves every weight whose gradient is nonzero.
      v.assign(tf.tidy(() => v.sub(tf.sign(g).mul(1e-2))));
    }
    for (const [name, v] of vars) {
      const a = before.get(name)!,
        b = v.dataSync();
      assert.ok(
        b.some((val, i) => val !== a[i]),
        `${name} did not change`,
      );
    }
    assert.ok(ctx.updates.length > 0);
    applyUpdates(ctx);
    tf.dispose([value, ...Object.values(grads), x.wave, x.logmel]);
    model.dispose();
  });
}

test('no tensor leaks: the count is flat across two forward + gradient calls', () => {
  const model = buildModel(tiny(), 5);
  const x = inputs(model, 2);
  const vars = [...model.trainable().values()];
  const step = (): void => {
    const ctx: ForwardContext = { training: true, updates: [] };
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => simpleLoss(model, x, ctx), vars);
      value.dataSync();
      tf.dispose(grads);
    });
    applyUpdates(ctx);
  };
  step(); // first call builds cached DFT matrices
  const n0 = tf.memory().numTensors;
  step();
  const n1 = tf.memory().numTensors;
  step();
  assert.equal(n1, n0);
  assert.equal(tf.memory().numTensors, n0);
  tf.dispose([x.wave, x.logmel]);
  const n2 = tf.memory().numTensors;
  const count = model.trainable().size + model.state().size;
  model.dispose();
  assert.equal(tf.memory().numTensors, n2 - count, 'dispose() frees every weight');
});

test('inputs of the wrong shape are a user error naming the expected shape', () => {
  const model = buildModel(tiny(), 5);
  const good = inputs(model, 2);
  const ctx = { training: false, updates: [] };
  assert.throws(
    () => model.embed({ ...good, logmel: tf.zeros([2, 32, 20]) as tf.Tensor3D }, ctx),
    (e: unknown) => e instanceof UserError && /\[B, 32, 16\]/.test(e.message),
  );
  assert.throws(
    () => model.embed({ ...good, wave: tf.zeros([2, 100]) as tf.Tensor2D }, ctx),
    (e: unknown) => e instanceof UserError && /8000/.test(e.message),
  );
  assert.throws(() => model.backbone.apply(tf.zeros([2, 32, 16, 3]) as tf.Tensor4D, ctx), UserError);
  model.dispose();
});

test('initialisation is seeded: same seed same weights, other seed other weights', () => {
  const a = buildModel(tiny(), 5),
    b = buildModel(tiny(), 5);
  const c = buildModel(
    validateExperiment({ seed: 1, data: { seconds: 0.5 }, features: { logmel: { nMels: 32 } } }, 't'),
    5,
  );
  const key = 'mobilefacenet/stem/conv/w';
  assert.deepEqual(a.trainable().get(key)!.dataSync(), b.trainable().get(key)!.dataSync());
  assert.notDeepEqual(a.trainable().get(key)!.dataSync(), c.trainable().get(key)!.dataSync());
  for (const m of [a, b, c]) m.dispose();
});
