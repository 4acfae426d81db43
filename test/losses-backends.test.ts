import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { arcFaceLoss, arcMixLoss, noisyArcMixLoss, softTripleLoss } from '../src/losses/index.js';

/** Value and gradients (emb, weights) of every loss on fixed inputs, on the current backend. */
function run(): number[][] {
  let s = 17;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  const B = 6,
    D = 16,
    C = 5,
    K = 3;
  const emb = Array.from({ length: B * D }, u);
  emb.fill(0, 0, D); // a zero row
  // tidy: a variable shares its initial tensor's data; the initial tensor itself must go.
  const x = tf.tidy(() => tf.variable(tf.tensor2d(emb, [B, D])));
  const w = tf.tidy(() => tf.variable(tf.tensor2d(Array.from({ length: C * D }, u), [C, D])));
  const centres = tf.tidy(() => tf.variable(tf.tensor2d(Array.from({ length: C * K * D }, u), [C * K, D])));
  const a = tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32');
  const b = tf.tensor1d([3, 3, 1, 0, 2, 4], 'int32');
  const X = x as tf.Tensor as tf.Tensor2D;
  const fns: Array<[() => tf.Scalar, tf.Variable[]]> = [
    [() => arcFaceLoss(X, w as tf.Tensor as tf.Tensor2D, a), [x, w]],
    [() => noisyArcMixLoss(X, w as tf.Tensor as tf.Tensor2D, a, b, 0.37), [x, w]],
    [() => arcMixLoss(X, w as tf.Tensor as tf.Tensor2D, a, b, 0.37), [x, w]],
    [() => softTripleLoss(X, centres as tf.Tensor as tf.Tensor2D, a, { tau: 0.2 }), [x, centres]],
  ];
  const out: number[][] = [];
  for (const [f, vars] of fns) {
    const { value, grads } = tf.variableGrads(f, vars);
    out.push([value.dataSync()[0]!, ...vars.flatMap((v) => [...grads[v.name]!.dataSync()])]);
    tf.dispose([value, ...Object.values(grads)]);
  }
  tf.dispose([x, w, centres, a, b]);
  return out;
}

test('losses and their gradients run under variableGrads on cpu and wasm and agree', async () => {
  await tf.setBackend('cpu');
  const cpu = run();
  assert.ok(await tf.setBackend('wasm'), 'wasm backend');
  const wasm = run();
  // A second pass must not add tensors (the first may cache backend constants).
  const before = tf.memory().numTensors;
  run();
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  await tf.setBackend('cpu');
  cpu.forEach((c, i) => {
    const scale = Math.max(1, ...c.map(Math.abs));
    c.forEach((v, j) =>
      assert.ok(
        Number.isFinite(wasm[i]![j]!) && Math.abs(v - wasm[i]![j]!) <= 1e-4 * scale,
        `loss ${i} entry ${j}: cpu ${v} wasm ${wasm[i]![j]}`,
      ),
    );
  });
});
