import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { initBackend } from '../src/backend/select.js';
import { fusedGatedMixAvailable, gatedMixFused } from '../src/backend/kernels/gated-mix.js';
import { centralDiff, rand, worst } from './fixtures/fused-check.js';

/**
 * FGA-Spec's fused gated mix lm + lambda (gf outer gt) (fs - lm) on wasm against the unfused tfjs
 * ops (on wasm and on cpu), values and the gradients of all four inputs; the gradients against
 * central differences of a float64 formula; and what a convex mix must satisfy.
 */

type Ins = [tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.Tensor2D];

function graph(lm: tf.Tensor3D, fs: tf.Tensor3D, gf: tf.Tensor2D, gt: tf.Tensor2D, lambda: number): tf.Tensor {
  const [b, m] = gf.shape;
  const g = tf.mul(tf.mul(gf.reshape([b, m, 1]), gt.reshape([b, 1, gt.shape[1]])), lambda);
  return tf.add(lm, tf.mul(g, tf.sub(fs, lm)));
}

function inputs([b, m, t]: number[], seed: number): Ins {
  const n = b! * m! * t!;
  return [
    tf.tensor3d(rand(n, seed), [b!, m!, t!]),
    tf.tensor3d(rand(n, seed + 1), [b!, m!, t!]),
    tf.tensor2d(rand(b! * m!, seed + 2), [b!, m!]).add(0.5) as tf.Tensor2D, // sigmoid outputs: (0, 1)
    tf.tensor2d(rand(b! * t!, seed + 3), [b!, t!]).add(0.5) as tf.Tensor2D,
  ];
}

/** [out, dlm, dfs, dgf, dgt] of loss = sum(out * dy). */
function run(shape: number[], fused: boolean, lambda: number): Float32Array[] {
  return tf.tidy(() => {
    const ins = inputs(shape, 1);
    const dy = tf.tensor(
      rand(
        shape.reduce((a, b) => a * b, 1),
        9,
      ),
      shape,
    );
    const f = (lm: tf.Tensor, fs: tf.Tensor, gf: tf.Tensor, gt: tf.Tensor): tf.Tensor => {
      const a = [lm, fs, gf, gt] as Ins;
      if (!fused) return graph(...a, lambda);
      assert.ok(fusedGatedMixAvailable(...a));
      return gatedMixFused(...a, lambda);
    };
    const out = f(...ins);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      tf.sum(tf.mul(f(a, b, c, d), dy)),
    )(ins);
    return [out, ...grads].map((x) => x.dataSync() as Float32Array);
  });
}

// T not a multiple of 4 (a vector tail), one item, FGASpecNet's [B, 128, 313] at a small batch.
const shapes = [
  [2, 3, 7],
  [1, 5, 8],
  [3, 4, 1],
  [2, 128, 313],
];

test('fused gated mix matches the unfused ops on wasm and on cpu: values and all four gradients', async () => {
  for (const shape of shapes) {
    await initBackend('cpu');
    const cpu = run(shape, false, 0.5);
    await initBackend('wasm');
    const g = run(shape, false, 0.5);
    const fused = run(shape, true, 0.5);
    const names = ['out', 'dlm', 'dfs', 'dgf', 'dgt'];
    const [vsGraph, vsCpu] = [worst(fused, g), worst(fused, cpu)];
    // The forward pass runs the unfused ops' order of operations: the same bits.
    assert.deepEqual(fused[0], g[0], `${shape}: forward differs from the wasm graph`);
    for (let k = 0; k < names.length; k++) {
      assert.ok(vsGraph[k]! <= 1e-6, `${shape} ${names[k]}: fused vs wasm graph ${vsGraph[k]}`);
      assert.ok(vsCpu[k]! <= 1e-6, `${shape} ${names[k]}: fused vs cpu ${vsCpu[k]}`);
    }
  }
});

test('fused gated mix gradients equal central differences of a float64 formula', async () => {
  await initBackend('wasm');
  const [b, m, t, lambda] = [2, 3, 5, 0.7];
  const vals = tf.tidy(() => inputs([b, m, t], 21).map((x) => x.dataSync() as Float32Array));
  const dy = rand(b * m * t, 25);
  const grads = tf.tidy(() =>
    tf
      .grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor, s: tf.Tensor) =>
        tf.sum(tf.mul(gatedMixFused(...([p, q, r, s] as Ins), lambda), tf.tensor(dy, [b, m, t]))),
      )([
        tf.tensor(vals[0]!, [b, m, t]),
        tf.tensor(vals[1]!, [b, m, t]),
        tf.tensor(vals[2]!, [b, m]),
        tf.tensor(vals[3]!, [b, t]),
      ])
      .map((x) => x.dataSync() as Float32Array),
  );
  const v64 = vals.map((v) => Float64Array.from(v));
  const loss = (): number => {
    const [lm, fs, gf, gt] = v64 as [Float64Array, Float64Array, Float64Array, Float64Array];
    let sum = 0;
    for (let i = 0; i < b; i++)
      for (let j = 0; j < m; j++)
        for (let k = 0; k < t; k++) {
          const e = (i * m + j) * t + k;
          sum += (lm[e]! + lambda * gf[i * m + j]! * gt[i * t + k]! * (fs[e]! - lm[e]!)) * dy[e]!;
        }
    return sum;
  };
  v64.forEach((arr, which) => {
    for (let i = 0; i < arr.length; i++) {
      const fd = centralDiff(loss, arr, i, 1e-3);
      const got = grads[which]![i]!;
      assert.ok(
        Math.abs(got - fd) <= 1e-5 * Math.max(1, Math.abs(fd)),
        `input ${which} element ${i}: ${got} vs fd ${fd}`,
      );
    }
  });
});

test('property: with gates in [0, 1] and lambda in [0, 1] the mix lies between lm and fs; lambda 0 gives lm exactly', async () => {
  await initBackend('wasm');
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 21 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      (b, m, t, lambda, seed) => {
        const [out, zero, lm, fs] = tf.tidy(() => {
          const ins = inputs([b, m, t], seed);
          return [gatedMixFused(...ins, lambda), gatedMixFused(...ins, 0), ins[0], ins[1]].map(
            (x) => x.dataSync() as Float32Array,
          );
        });
        for (let e = 0; e < out!.length; e++) {
          const [lo, hi] = [Math.min(lm![e]!, fs![e]!), Math.max(lm![e]!, fs![e]!)];
          assert.ok(out![e]! >= lo - 1e-6 && out![e]! <= hi + 1e-6, `${out![e]} outside [${lo}, ${hi}]`);
          assert.ok(zero![e] === lm![e], `lambda 0 at ${e}: ${zero![e]} vs ${lm![e]}`);
        }
      },
    ),
    { numRuns: 50, seed: 11 },
  );
});

test('the fused gated mix applies only to [B, M, T] maps with [B, M] and [B, T] gates, on wasm', async () => {
  await initBackend('wasm');
  const x = tf.zeros([2, 3, 4]) as tf.Tensor3D;
  assert.equal(fusedGatedMixAvailable(x, x, tf.zeros([2, 3]), tf.zeros([2, 4])), true);
  assert.equal(fusedGatedMixAvailable(x, x, tf.zeros([2, 4]), tf.zeros([2, 3])), false);
  assert.equal(fusedGatedMixAvailable(x, tf.zeros([2, 3, 5]), tf.zeros([2, 3]), tf.zeros([2, 4])), false);
  await initBackend('cpu');
  const y = tf.zeros([2, 3, 4]);
  assert.equal(fusedGatedMixAvailable(y, y, tf.zeros([2, 3]), tf.zeros([2, 4])), false);
});
