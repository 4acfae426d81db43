import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { rand } from './fixtures/fused-check.js';
import { initBackend } from '../src/backend/select.js';

/**
 * A tiny MobileFaceNet-like network on wasm (conv 3x3 s2 -> PReLU -> depthwise 3x3 -> 1x1 as
 * matmul -> BatchNorm-style normalisation -> global depthwise conv -> linear): its analytic
 * gradients against central finite differences, and the tensor count across training steps.
 */

interface Net {
  vars: tf.Variable[];
  loss: (x: tf.Tensor4D) => tf.Scalar;
}

function tinyNet(): Net {
  const v = (shape: number[], seed: number, scale = 0.5) =>
    tf.variable(
      tf.tensor(
        rand(
          shape.reduce((a, b) => a * b, 1),
          seed,
          -scale / 2,
          scale / 2,
        ),
        shape,
      ),
    );
  const w1 = v([3, 3, 2, 4], 1);
  const a1 = v([4], 2);
  const w2 = v([3, 3, 4, 1], 3);
  const w3 = v([4, 6], 4);
  const gamma = v([6], 5);
  const w4 = v([3, 4, 6, 1], 6);
  const w5 = v([6, 3], 7);
  const loss = (x: tf.Tensor4D): tf.Scalar =>
    tf.tidy(() => {
      let h = tf.prelu(
        tf.conv2d(x, w1 as tf.Tensor4D, 2, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
        a1,
      );
      h = tf.depthwiseConv2d(h, w2 as tf.Tensor4D, 2, 'same');
      const [b, hh, ww, c] = h.shape;
      let p = tf.matMul(h.reshape([b * hh * ww, c]), w3).reshape([b, hh, ww, 6]) as tf.Tensor4D;
      const { mean, variance } = tf.moments(p, [0, 1, 2]);
      p = tf.mul(tf.div(tf.sub(p, mean), tf.sqrt(tf.add(variance, 1e-3))), gamma) as tf.Tensor4D;
      const g = tf.depthwiseConv2d(p, w4 as tf.Tensor4D, 1, 'valid').reshape([b, 6]);
      return tf.mean(tf.square(tf.tanh(tf.matMul(g, w5)))) as tf.Scalar;
    });
  return { vars: [w1, a1, w2, w3, gamma, w4, w5], loss };
}

test('gradients of a tiny conv network on wasm agree with finite differences', async () => {
  await initBackend('wasm');
  const net = tinyNet();
  // 2 x 12 x 15 x 2 input: conv s2 -> 6 x 8, depthwise s2 -> 3 x 4, global kernel 3 x 4.
  const x = tf.tensor4d(rand(2 * 12 * 15 * 2, 11, -1, 1), [2, 12, 15, 2]);
  const { grads } = tf.variableGrads(() => net.loss(x), net.vars);
  const eps = 1e-2;
  let checked = 0;
  for (const [vi, variable] of net.vars.entries()) {
    const analytic = grads[variable.name]!.dataSync();
    const base = variable.dataSync().slice();
    // A few coordinates per variable (every one would be slow and adds nothing).
    for (const i of [0, Math.floor(base.length / 2), base.length - 1]) {
      const at = (delta: number) => {
        const w = base.slice();
        w[i] = base[i]! + delta;
        variable.assign(tf.tensor(w, variable.shape));
        const l = net.loss(x);
        const value = l.dataSync()[0]!;
        l.dispose();
        return value;
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      variable.assign(tf.tensor(base, variable.shape));
      const a = analytic[i]!;
      assert.ok(
        Math.abs(numeric - a) <= 2e-3 + 3e-2 * Math.abs(a),
        `variable ${vi} element ${i}: analytic ${a}, finite difference ${numeric}`,
      );
      checked++;
    }
  }
  assert.equal(checked, 21);
  tf.dispose(Object.values(grads));
  tf.dispose([x, ...net.vars]);
});

test('training steps on wasm keep the tensor count flat', async () => {
  await initBackend('wasm');
  const net = tinyNet();
  const opt = tf.train.adam(1e-3);
  const x = tf.tensor4d(rand(2 * 12 * 15 * 2, 12, -1, 1), [2, 12, 15, 2]);
  const counts: number[] = [];
  for (let step = 0; step < 5; step++) {
    opt.minimize(() => net.loss(x), false, net.vars);
    counts.push(tf.memory().numTensors);
  }
  // Adam creates its moment slots on the first step; from then on nothing may accumulate.
  assert.deepEqual(counts.slice(1), Array(4).fill(counts[1]), `tensor counts per step: ${counts.join(', ')}`);
  opt.dispose();
  tf.dispose([x, ...net.vars]);
});
