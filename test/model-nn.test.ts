import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  applyUpdates,
  batchNorm,
  conv1d,
  conv2d,
  depthwiseConv2d,
  layerNorm,
  type BatchNormParams,
} from '../src/model/nn.js';
import { convOut, mobileFaceNetShapes, BOTTLENECK_TABLES } from '../src/model/backbones/mobilefacenet.js';
import { UserError } from '../src/util/errors.js';

await tf.setBackend('cpu');

function bnParams(c: number): BatchNormParams {
  return {
    gamma: tf.variable(tf.fill([c], 1.5)),
    beta: tf.variable(tf.fill([c], 0.25)),
    runningMean: tf.variable(tf.fill([c], 0.3), false),
    runningVar: tf.variable(tf.fill([c], 2), false),
  };
}

test('BatchNorm follows PyTorch: biased variance to normalise, running stats with momentum 0.1 and the unbiased variance', () => {
  const [b, h, w, c] = [2, 3, 2, 2];
  const xs = Array.from({ length: b * h * w * c }, (_, i) => Math.sin(i * 1.7) * 3 + (i % c));
  const p = bnParams(c);
  const ctx = { training: true, updates: [] as Array<() => void> };
  const y = batchNorm(tf.tensor4d(xs, [b, h, w, c]), p, ctx).dataSync();
  assert.equal(ctx.updates.length, 1);
  applyUpdates(ctx);
  const rm = p.runningMean.dataSync(),
    rv = p.runningVar.dataSync();
  for (let ch = 0; ch < c; ch++) {
    const vals = xs.filter((_, i) => i % c === ch);
    const n = vals.length;
    const mean = vals.reduce((a, v) => a + v, 0) / n;
    const biased = vals.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
    const unbiased = (biased * n) / (n - 1);
    assert.ok(Math.abs(rm[ch]! - (0.9 * 0.3 + 0.1 * mean)) < 1e-5);
    assert.ok(Math.abs(rv[ch]! - (0.9 * 2 + 0.1 * unbiased)) < 1e-5);
    xs.forEach((v, i) => {
      if (i % c !== ch) return;
      const expect = ((v - mean) / Math.sqrt(biased + 1e-5)) * 1.5 + 0.25;
      assert.ok(Math.abs(y[i]! - expect) < 1e-4, `y[${i}] = ${y[i]} vs ${expect}`);
    });
  }
  // Evaluation mode uses the running statistics and queues nothing.
  const ev = { training: false, updates: [] as Array<() => void> };
  const ye = batchNorm(tf.tensor4d(xs, [b, h, w, c]), p, ev).dataSync();
  assert.equal(ev.updates.length, 0);
  assert.ok(Math.abs(ye[0]! - ((xs[0]! - rm[0]!) / Math.sqrt(rv[0]! + 1e-5)) * 1.5 - 0.25) < 1e-4);
});

test('BatchNorm in training mode with one value per channel is a user error', () => {
  assert.throws(() => batchNorm(tf.ones([1, 1, 1, 3]), bnParams(3), { training: true, updates: [] }), UserError);
});

test('LayerNorm over axis 1 matches the plain formula', () => {
  const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 3) as tf.Tensor3D;
  const g = tf.randomNormal([5, 1], 1, 0.1, 'float32', 4),
    bt = tf.randomNormal([5, 1], 0, 0.1, 'float32', 5);
  const y = layerNorm(x, g, bt, 1).arraySync() as number[][][];
  const xa = x.arraySync(),
    ga = g.arraySync() as number[][],
    ba = bt.arraySync() as number[][];
  for (let b = 0; b < 2; b++)
    for (let c = 0; c < 3; c++) {
      const col = xa[b]!.map((r) => r[c]!);
      const mean = col.reduce((a, v) => a + v, 0) / 5;
      const v = col.reduce((a, u) => a + (u - mean) ** 2, 0) / 5;
      col.forEach((u, t) =>
        assert.ok(Math.abs(y[b]![t]![c]! - ((u - mean) / Math.sqrt(v + 1e-5)) * ga[t]![0]! - ba[t]![0]!) < 1e-5),
      );
    }
});

test('conv2d / depthwiseConv2d pad like PyTorch (symmetric zeros), also for non-square kernels', () => {
  // Reference: explicit zero padding then a 'valid' convolution.
  const x = tf.randomNormal([2, 9, 13, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 7) as tf.Tensor4D;
  const ref = tf.conv2d(
    tf.pad(x, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]),
    w,
    2,
    'valid',
  );
  const got = conv2d(x, w, 2, 1);
  assert.deepEqual(got.shape, [2, convOut(9, 3, 2, 1), convOut(13, 3, 2, 1), 4]);
  assert.ok(tf.max(tf.abs(got.sub(ref))).dataSync()[0]! < 1e-5);
  const dw = tf.randomNormal([2, 5, 3, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
  assert.deepEqual(depthwiseConv2d(x, dw, 1, 0).shape, [2, 8, 9, 3]); // non-square kernel 2 x 5: (9 - 2 + 1) x (13 - 5 + 1)
  const one = tf.randomNormal([1, 1, 3, 4], 0, 1, 'float32', 9) as tf.Tensor4D;
  assert.ok(tf.max(tf.abs(conv2d(x, one, 1, 0).sub(tf.conv2d(x, one, 1, 'valid')))).dataSync()[0]! < 1e-5);
});

test('conv1d pads like PyTorch; the matmul path equals tf.conv1d', () => {
  for (const [len, k, s, p, cin, cout] of [
    [100, 8, 4, 4, 1, 3],
    [20, 3, 1, 1, 5, 4],
    [37, 6, 3, 3, 2, 2],
    [50, 5, 2, 2, 1, 2],
  ] as const) {
    const x = tf.randomNormal([2, len, cin], 0, 1, 'float32', len) as tf.Tensor3D;
    const w = tf.randomNormal([k, cin, cout], 0, 1, 'float32', k) as tf.Tensor3D;
    const got = conv1d(x, w, s, p);
    const ref = tf.conv1d(
      tf.pad(x, [
        [0, 0],
        [p, p],
        [0, 0],
      ]),
      w,
      s,
      'valid',
    );
    assert.deepEqual(got.shape, [2, convOut(len, k, s, p), cout]);
    assert.ok(tf.max(tf.abs(got.sub(ref))).dataSync()[0]! < 1e-4);
  }
});

test('MobileFaceNet map sizes: 128 x 313 -> 64 x 157 -> ... -> 8 x 20 at the head (STgram-MFN net.py)', () => {
  const sizes = mobileFaceNetShapes(128, 313, BOTTLENECK_TABLES.current);
  assert.deepEqual(sizes, [
    [64, 157],
    [32, 79],
    [16, 40],
    [8, 20],
  ]);
  assert.deepEqual(mobileFaceNetShapes(128, 313, BOTTLENECK_TABLES.legacy).at(-1), [8, 20]);
  // T follows the clip: 1 s = 32 frames -> 8 x 2.
  assert.deepEqual(mobileFaceNetShapes(128, 32, BOTTLENECK_TABLES.current).at(-1), [8, 2]);
});
