import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { parseOverride } from '../src/config/load.js';
import { defaultCatalog } from '../src/parts/builtin.js';
import { loadExperiment, validateExperiment } from '../src/parts/experiment.js';
import { configHash } from '../src/config/hash.js';
import { frameVectors, melWindows, clipMean } from '../src/systems/frontends.js';
import { rowMse, negLogSoftmax } from '../src/systems/objectives.js';
import { countParams } from '../src/parts/params.js';
import { buildSystem } from '../src/systems/build.js';
import { InterpolationDnn } from '../src/systems/idnn/idnn.js';
import { AutoEncoder } from '../src/systems/ae/ae.js';
import { UserError } from '../src/util/errors.js';

before(async () => {
  await tf.setBackend('cpu');
});

const finite = fc.float({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true });

test('the paper-family configs keep their hashes (absent system / baseline sections leave the hash alone)', () => {
  // Pinned so that an accidental change to a default or to the canonical form shows up here.
  // Changed on purpose three times: the trainer-fidelity keys (train.etaMinRatio, train.dropLast,
  // loss.metric.eps: docs/training.md) and synthetic set versions 2 and 3 (data.synthVersion) give new
  // default configs new hashes, because they train differently; runs stored before keep theirs
  // (src/config/upgrade.ts fills the keys with their old meaning, tested in train-fidelity and
  // config tests). With data.synthVersion 1 the hashes differ only by the fidelity keys.
  const pinned: Record<string, [string, string, string]> = {
    fgaspecnet: ['81f5f43389741d1e', 'a63c495ac17ecea2', '5875846f57e16d11'],
    tastgram: ['b66fadaed66243ec', 'd725d7c9b697a709', '78f28a98e672aa9b'],
    'stgram-mfn': ['c9ec12177e1fc2c0', '8a96fef3a57402e4', '989dc4646e4dc686'],
    'ablation-fga': ['00aeee1c976c7b1c', 'cfa7c021f531a58c', '8bc0f7007e4723ae'],
  };
  for (const [name, [v3, v2, v1]] of Object.entries(pinned)) {
    const config = loadExperiment(`experiments/${name}.yaml`);
    assert.equal(config.system, undefined, `${name}: no system key`);
    assert.equal(configHash(config), v3, name);
    assert.equal(
      configHash(loadExperiment(`experiments/${name}.yaml`, [parseOverride('data.synthVersion=2')])),
      v2,
      `${name} (synthVersion 2)`,
    );
    assert.equal(
      configHash(loadExperiment(`experiments/${name}.yaml`, [parseOverride('data.synthVersion=1')])),
      v1,
      `${name} (synthVersion 1)`,
    );
  }
});

test('a system fills its section with defaults; a section of another system is an error naming it', () => {
  const c = validateExperiment({ system: 'idnn' }, 'x');
  assert.deepEqual(c.idnn, { context: 5, hidden: [64, 32, 16] });
  assert.equal(c.ae, undefined);
  assert.throws(
    () => validateExperiment({ system: 'idnn', ae: {} }, 'x.yaml'),
    (e: unknown) => e instanceof UserError && /x\.yaml: ae: only read by system ae/.test(e.message),
  );
  assert.throws(
    () => validateExperiment({ ae: { hidden: 3 } }, 'x.yaml'),
    /ae: only read by system ae \(this config's system is classifier\)/,
  );
  assert.throws(
    () =>
      buildSystem(validateExperiment({ system: 'vae' }, 'x'), [{ type: 'fan', machineId: 'id_00' }], defaultCatalog()),
    /system: unknown system "vae"; registered names: .*ae.*classifier.*idnn/,
  );
});

test('frame vectors are the baseline vector_array: frames t..t+c-1 concatenated, frame-major', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 4 }),
      (b, m, t0, c) => {
        const t = t0 + c - 1;
        const data = Float32Array.from({ length: b * m * t }, (_, i) => Math.sin(i * 1.7));
        const v = tf.tidy(() => frameVectors(tf.tensor3d(data, [b, m, t]), c).arraySync());
        for (let bi = 0; bi < b; bi++) {
          for (let n = 0; n < t - c + 1; n++) {
            for (let j = 0; j < c; j++) {
              for (let k = 0; k < m; k++) assert.equal(v[bi]![n]![j * m + k], data[bi * m * t + k * t + n + j]);
            }
          }
        }
      },
    ),
    { numRuns: 30 },
  );
});

test('log-Mel windows: N = floor((T - size) / hop) + 1 windows per clip, clip-major; clipMean averages them back', () => {
  const [b, m, t] = [2, 3, 10];
  const data = Float32Array.from({ length: b * m * t }, (_, i) => i);
  const w = tf.tidy(() => melWindows(tf.tensor3d(data, [b, m, t]), 4, 3).arraySync());
  assert.equal(w.length, b * 3);
  for (let bi = 0; bi < b; bi++) {
    for (let n = 0; n < 3; n++) {
      for (let k = 0; k < m; k++)
        for (let j = 0; j < 4; j++) assert.equal(w[bi * 3 + n]![k]![j]![0], data[bi * m * t + k * t + n * 3 + j]);
    }
  }
  assert.deepEqual(Array.from(tf.tidy(() => clipMean(tf.tensor1d([1, 2, 3, 10, 20, 30]), 2).dataSync())), [2, 20]);
  assert.throws(
    () => melWindows(tf.zeros([1, 3, 5]) as tf.Tensor3D, 8, 1, 'mobilenetv2.window'),
    /mobilenetv2\.window: windows of 8 frames, but a clip has only 5 frames/,
  );
});

test('reconstruction error: 0 for a perfect reconstruction, the plain mean of squares otherwise, growing with the error', () => {
  fc.assert(
    fc.property(
      fc.array(finite, { minLength: 1, maxLength: 12 }),
      fc.array(finite, { minLength: 12, maxLength: 12 }),
      fc.float({ min: Math.fround(1.1), max: 4, noNaN: true }),
      (x, e, k) => {
        const d = x.length;
        const target = tf.tensor2d(x, [1, d]);
        const err = e.slice(0, d);
        const zero = tf.tidy(() => rowMse(target, target).dataSync()[0]!);
        assert.equal(zero, 0);
        const mse = (s: number) =>
          tf.tidy(
            () =>
              rowMse(
                tf.add(
                  target,
                  tf.tensor2d(
                    err.map((v) => v * s),
                    [1, d],
                  ),
                ) as tf.Tensor2D,
                target,
              ).dataSync()[0]!,
          );
        const plain = err.reduce((a, v) => a + v * v, 0) / d;
        assert.ok(Math.abs(mse(1) - plain) <= 1e-3 * (1 + plain), `${mse(1)} vs ${plain}`);
        if (plain > 1e-3) assert.ok(mse(k) > mse(1));
        target.dispose();
      },
    ),
    { numRuns: 60 },
  );
});

test('softmax cross-entropy per row equals -log(exp(z_y) / sum exp(z))', () => {
  fc.assert(
    fc.property(
      fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 2, maxLength: 9 }),
      fc.nat(),
      (z, y0) => {
        const y = y0 % z.length;
        const got = tf.tidy(
          () => negLogSoftmax(tf.tensor2d(z, [1, z.length]), tf.tensor1d([y], 'int32')).dataSync()[0]!,
        );
        const max = Math.max(...z);
        const plain = -(z[y]! - max - Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0)));
        assert.ok(Math.abs(got - plain) < 1e-4 * (1 + Math.abs(plain)), `${got} vs ${plain}`);
      },
    ),
    { numRuns: 60 },
  );
});

test('AE: 267,928 trainable weights per machine type (the DCASE 2020 baseline: 269,992 with 2,064 BatchNorm statistics); no Table 5 entry', () => {
  const r = countParams(loadExperiment('experiments/ae.yaml'));
  assert.equal(r.total, 267_928);
  assert.equal(r.paper, null);
  assert.equal(r.row, 'ae');
  assert.deepEqual(r.perType && { models: r.perType.models, all: r.perType.allModels }, {
    models: 6,
    all: 6 * 267_928,
  });
});

test('IDNN: 46,416 weights (Table 5: 46 k), one model per machine type', () => {
  const r = countParams(loadExperiment('experiments/idnn.yaml'));
  assert.equal(r.total, 46_416);
  assert.equal(r.paper?.system, 'IDNN');
  assert.ok(Math.abs(r.paper!.gap) < 0.1);
});

test('IDNN objective: MSE between the net output on the 4 outer frames and the middle frame, computed plainly', () => {
  const cfg = validateExperiment({ system: 'idnn', idnn: { hidden: [4, 2] } }, 'x').idnn!;
  const m = 3;
  const idnn = new InterpolationDnn(cfg, m, 'idnn', 1);
  const t = 7;
  const data = Float32Array.from({ length: m * t }, (_, i) => Math.cos(i));
  const logmel = tf.tensor3d(data, [1, m, t]);
  const got = tf.tidy(
    () => idnn.objective(logmel, tf.tensor1d([0], 'int32'), { training: false, updates: [] }).total.dataSync()[0]!,
  );
  let sum = 0;
  const n = t - 4;
  for (let s = 0; s < n; s++) {
    const frame = (j: number) => Array.from({ length: m }, (_, k) => data[k * t + s + j]!);
    const input = [...frame(0), ...frame(1), ...frame(3), ...frame(4)];
    const out = tf.tidy(() =>
      Array.from(idnn.net.apply(tf.tensor2d(input, [1, 4 * m]), { training: false, updates: [] }).dataSync()),
    );
    const target = frame(2);
    sum += out.reduce((a, v, k) => a + (v - target[k]!) ** 2, 0) / m;
  }
  assert.ok(Math.abs(got - sum / n) < 1e-5 * (1 + sum / n), `${got} vs ${sum / n}`);
  for (const mod of idnn.modules) mod.dispose();
  logmel.dispose();
});

test('AE score is the mean per-vector reconstruction error of a clip; training lowers it on the training data', async () => {
  const cfg = validateExperiment({ system: 'ae', ae: { hidden: 8, layers: 1, bottleneck: 2 } }, 'x').ae!;
  const ae = new AutoEncoder(cfg, 4, 'ae', 2);
  const logmel = tf.tensor3d(
    Float32Array.from({ length: 2 * 4 * 9 }, (_, i) => Math.sin(i / 3)),
    [2, 4, 9],
  );
  const score = () => Array.from(tf.tidy(() => ae.clipScores(logmel).dataSync()));
  const before = score();
  const eval1 = tf.tidy(
    () => ae.objective(logmel, tf.tensor1d([0, 0], 'int32'), { training: false, updates: [] }).total.dataSync()[0]!,
  );
  assert.ok(Math.abs((before[0]! + before[1]!) / 2 - eval1) < 1e-5 * (1 + eval1));
  const opt = tf.train.adam(0.05);
  for (let i = 0; i < 60; i++) {
    const ctx = { training: true, updates: [] as Array<() => void> };
    opt.minimize(() => ae.objective(logmel, tf.tensor1d([0, 0], 'int32'), ctx).total, false, [
      ...ae.modules[0]!.trainable().values(),
    ]);
    for (const u of ctx.updates) u();
  }
  const after = score();
  assert.ok(after[0]! + after[1]! < 0.5 * (before[0]! + before[1]!), `${after} vs ${before}`);
  for (const mod of ae.modules) mod.dispose();
});
