import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ClassificationLossConfig, MetricLossConfig } from '../src/config/schema.js';
import {
  createLossRegistries,
  arcFaceLoss,
  arcMixLoss,
  noisyArcMixLoss,
  softTripleLoss,
  SOFTTRIPLE_CENTERS_KEY,
} from '../src/losses/index.js';
import { UserError } from '../src/util/errors.js';

before(async () => {
  await tf.setBackend('cpu');
});

const B = 4;
const C = 5;
const D = 8;

function inputs() {
  let s = 5;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  return {
    emb: tf.tensor2d(Array.from({ length: B * D }, u), [B, D]),
    w: tf.tensor2d(Array.from({ length: C * D }, u), [C, D]),
    targets: { labelsA: tf.tensor1d([0, 1, 2, 4], 'int32'), labelsB: tf.tensor1d([2, 0, 4, 1], 'int32'), lam: 0.3 },
  };
}

test('registries list the built-in losses; an unknown name is a UserError listing them', () => {
  const { classificationLosses, metricLosses } = createLossRegistries();
  assert.deepEqual(classificationLosses.names(), ['arcface', 'arcmix', 'noisy-arcmix']);
  assert.deepEqual(metricLosses.names(), ['softtriple']);
  assert.throws(
    () => classificationLosses.get('cosface', 'loss.classification.name'),
    (e: unknown) =>
      e instanceof UserError &&
      /loss\.classification\.name: unknown classification loss "cosface"; .*arcface, arcmix, noisy-arcmix/.test(
        e.message,
      ),
  );
  // Each call gives fresh registries (no shared mutable state, no import side effects).
  assert.notEqual(createLossRegistries().classificationLosses, classificationLosses);
});

test('classification factories bind the config to the right loss and mixup flag', () => {
  const { classificationLosses } = createLossRegistries();
  const { emb, w, targets } = inputs();
  const cfgFor = (name: string) => ClassificationLossConfig.parse({ name, margin: 0.5, scale: 16, alpha: 0.4 });
  const o = { margin: 0.5, scale: 16 };
  const expected: Record<string, [boolean, () => tf.Scalar]> = {
    arcface: [false, () => arcFaceLoss(emb, w, targets.labelsA, o)],
    'noisy-arcmix': [true, () => noisyArcMixLoss(emb, w, targets.labelsA, targets.labelsB, targets.lam, o)],
    arcmix: [true, () => arcMixLoss(emb, w, targets.labelsA, targets.labelsB, targets.lam, o)],
  };
  for (const [name, [mixup, direct]] of Object.entries(expected)) {
    const loss = classificationLosses.get(name)(cfgFor(name), C, D, 0);
    assert.equal(loss.name, name);
    assert.equal(loss.mixup, mixup);
    assert.equal(loss.alpha, 0.4);
    const got = tf.tidy(() => loss.compute(emb, w, targets).dataSync()[0]!);
    assert.equal(
      got,
      tf.tidy(() => direct().dataSync()[0]!),
      name,
    );
  }
});

test('softtriple owns seeded centres [C*K, D]; mixed batches give lam*L(A) + (1-lam)*L(B); gradients reach the centres', () => {
  const { metricLosses } = createLossRegistries();
  const cfg = MetricLossConfig.parse({ K: 3, tau: 0.1 });
  const a = metricLosses.get('softtriple')(cfg, C, D, 42);
  const b = metricLosses.get('softtriple')(cfg, C, D, 42);
  const c = metricLosses.get('softtriple')(cfg, C, D, 43);
  assert.equal(a.weight, 0.15);
  assert.equal(a.lrMultiplier, 100);
  const centres = a.trainable().get(SOFTTRIPLE_CENTERS_KEY)!;
  assert.deepEqual(centres.shape, [C * 3, D]);
  assert.deepEqual(centres.dataSync(), b.trainable().get(SOFTTRIPLE_CENTERS_KEY)!.dataSync());
  assert.notDeepEqual(centres.dataSync(), c.trainable().get(SOFTTRIPLE_CENTERS_KEY)!.dataSync());
  // The reference's kaiming_uniform_(a = sqrt(5)) on [D, C*K]: U(-1/sqrt(C*K), 1/sqrt(C*K)).
  const bound = 1 / Math.sqrt(C * 3);
  assert.ok(centres.dataSync().every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...centres.dataSync().map(Math.abs)) > 0.8 * bound);

  const { emb, targets } = inputs();
  const o = { gamma: cfg.gamma, lambda: cfg.lambda, delta: cfg.delta, K: cfg.K, tau: cfg.tau };
  const c2 = centres as tf.Tensor as tf.Tensor2D;
  const got = tf.tidy(() => a.compute(emb, targets).dataSync()[0]!);
  const want = tf.tidy(
    () =>
      0.3 * softTripleLoss(emb, c2, targets.labelsA, o).dataSync()[0]! +
      0.7 * softTripleLoss(emb, c2, targets.labelsB, o).dataSync()[0]!,
  );
  assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, want), `${got} vs ${want}`);

  const { grads } = tf.variableGrads(() => a.compute(emb, targets), [centres]);
  const g = grads[centres.name]!;
  assert.ok(g.dataSync().every(Number.isFinite));
  assert.ok(g.abs().sum().dataSync()[0]! > 0);
  tf.dispose(Object.values(grads));
});
