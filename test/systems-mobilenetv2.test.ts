import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadExperiment, validateExperiment } from '../src/parts/experiment.js';
import { countParams } from '../src/parts/params.js';
import { MobileNetV2, makeDivisible } from '../src/systems/mobilenetv2/model.js';
import { MobileNetV2Detector } from '../src/systems/mobilenetv2/detector.js';

before(async () => {
  await tf.setBackend('cpu');
});

test("MobileNetV2 at width 1 with 3 input channels and 1000 classes has torchvision's 3,504,872 weights", () => {
  const m = new MobileNetV2('m', 0, { width: 1, lastChannels: 1280, classes: 1000, inChannels: 3 });
  assert.equal(m.paramCount(), 3_504_872);
  m.dispose();
  assert.deepEqual(
    [makeDivisible(32 * 0.65), makeDivisible(16 * 0.65), makeDivisible(24 * 0.35), makeDivisible(320 * 0.65)],
    [24, 16, 8, 208],
  );
});

test('experiments/mobilenetv2.yaml: 1.07 M weights per machine type, within 10 % of Table 5 (1.1 M)', () => {
  const r = countParams(loadExperiment('experiments/mobilenetv2.yaml'));
  assert.equal(r.total, 1_074_487);
  assert.equal(r.paper?.system, 'MobileNetV2');
  assert.ok(Math.abs(r.paper!.gap) < 0.1, String(r.paper!.gap));
});

test("MobileNetV2 score: mean over a clip's windows of -log softmax(logits)[own ID], computed plainly from the logits", () => {
  const cfg = validateExperiment(
    { system: 'mobilenetv2', mobilenetv2: { width: 0.35, window: 8, hop: 4, lastChannels: 32 } },
    'x',
  ).mobilenetv2!;
  const det = new MobileNetV2Detector(cfg, 3, 'mnv2', 4);
  const [b, m, t] = [2, 16, 16];
  const logmel = tf.tensor3d(
    Float32Array.from({ length: b * m * t }, (_, i) => Math.sin(i * 0.1) * 3),
    [b, m, t],
  );
  const labels = tf.tensor1d([2, 0], 'int32');
  const scores = tf.tidy(() => Array.from(det.clipScores(logmel, labels).dataSync()));
  const ctx = { training: false, updates: [] };
  const perClip = 3; // windows at 0, 4, 8
  for (let c = 0; c < b; c++) {
    let sum = 0;
    for (let k = 0; k < perClip; k++) {
      const win = tf.tidy(() => logmel.slice([c, 0, 4 * k], [1, m, 8]).reshape([1, m, 8, 1]) as tf.Tensor4D);
      const z = tf.tidy(() => Array.from(det.modules[0]!.apply(win, ctx).dataSync()));
      const y = c === 0 ? 2 : 0;
      const max = Math.max(...z);
      sum += -(z[y]! - max - Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0)));
      win.dispose();
    }
    assert.ok(Math.abs(scores[c]! - sum / perClip) < 1e-4 * (1 + Math.abs(sum)), `${scores[c]} vs ${sum / perClip}`);
  }
  det.modules[0]!.dispose();
  tf.dispose([logmel, labels]);
});
