import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { anomalyScoreTensor, arcFaceLoss, arcMixLoss, noisyArcMixLoss, softTripleLoss } from '../src/losses/index.js';

/** test/fixtures/losses.json: float64 numpy values from tools/loss_reference.py (independent code). */
interface Fixture {
  emb: number[][];
  weights: number[][];
  centers: number[][];
  labelsA: number[];
  labelsB: number[];
  cases: Array<{
    fn: string;
    lam?: number;
    K?: number;
    opts: Record<string, number | boolean>;
    value?: number;
    values?: number[];
  }>;
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/losses.json', import.meta.url), 'utf8')) as Fixture;

const rel = (a: number, b: number, tol: number, msg: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${msg}: ${a} vs reference ${b}`);

test('every loss matches the numpy reference to 1e-4 relative (cpu backend)', async () => {
  await tf.setBackend('cpu');
  assert.ok(fx.cases.length >= 30);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const emb = tf.tensor2d(fx.emb);
    const w = tf.tensor2d(fx.weights);
    const a = tf.tensor1d(fx.labelsA, 'int32');
    const b = tf.tensor1d(fx.labelsB, 'int32');
    for (const [k, c] of fx.cases.entries()) {
      const o = c.opts as Record<string, number>;
      const msg = `case ${k} ${c.fn} ${JSON.stringify(c.opts)} lam ${c.lam ?? '-'}`;
      if (c.fn === 'anomalyScores') {
        const got = anomalyScoreTensor(emb, w, a, c.opts).dataSync();
        c.values!.forEach((v, i) => rel(got[i]!, v, 1e-4, `${msg} clip ${i}`));
        continue;
      }
      let loss: tf.Scalar;
      if (c.fn === 'arcFaceLoss') loss = arcFaceLoss(emb, w, a, o);
      else if (c.fn === 'noisyArcMixLoss') loss = noisyArcMixLoss(emb, w, a, b, c.lam!, o);
      else if (c.fn === 'arcMixLoss') loss = arcMixLoss(emb, w, a, b, c.lam!, o);
      else if (c.fn === 'softTripleLoss') loss = softTripleLoss(emb, tf.tensor2d(fx.centers.slice(0, 4 * c.K!)), a, o);
      else throw new Error(`unknown fixture fn ${c.fn}`);
      rel(loss.dataSync()[0]!, c.value!, 1e-4, msg);
    }
  });
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
});
