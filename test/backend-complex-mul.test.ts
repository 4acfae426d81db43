import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { initBackend } from '../src/backend/select.js';
import { centralDiff, rand, worst } from './fixtures/fused-check.js';
import { complexMulFused, fusedComplexMulAvailable } from '../src/backend/kernels/complex-mul.js';

/**
 * The fused complex multiplication (SpecNet's FourierConv2D) on wasm against the unfused tfjs ops
 * (on wasm and on cpu), values and the gradients of all four inputs; the gradients against central
 * differences of a float64 formula; and properties of complex multiplication.
 */

type Pair = { re: tf.Tensor; im: tf.Tensor };

function graph(xr: tf.Tensor, xi: tf.Tensor, wr: tf.Tensor, wi: tf.Tensor): Pair {
  return { re: tf.sub(tf.mul(xr, wr), tf.mul(xi, wi)), im: tf.add(tf.mul(xr, wi), tf.mul(xi, wr)) };
}

/** [yr, yi, dxr, dxi, dwr, dwi] of loss = sum(yr * gr + yi * gi). */
function run(x: number[], w: number[], fused: boolean): Float32Array[] {
  return tf.tidy(() => {
    const nx = x.reduce((a, b) => a * b, 1);
    const nw = w.reduce((a, b) => a * b, 1);
    const ins = [
      tf.tensor(rand(nx, 1), x),
      tf.tensor(rand(nx, 2), x),
      tf.tensor(rand(nw, 3), w),
      tf.tensor(rand(nw, 4), w),
    ];
    const [gr, gi] = [tf.tensor(rand(nx, 5), x), tf.tensor(rand(nx, 6), x)];
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor): Pair => {
      if (!fused) return graph(a, b, c, d);
      assert.ok(fusedComplexMulAvailable(a, b, c, d));
      return complexMulFused(a, b, c, d);
    };
    const y = f(ins[0]!, ins[1]!, ins[2]!, ins[3]!);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
      const p = f(a, b, c, d);
      return tf.add(tf.sum(tf.mul(p.re, gr)), tf.sum(tf.mul(p.im, gi)));
    })(ins);
    return [y.re, y.im, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

// Columns that are and are not multiples of 4 and of the helper threads' 1024-column chunks;
// SpecNet's [B, 128, 313] at a small batch.
const cases: Array<[number[], number[]]> = [
  [
    [3, 5, 7],
    [5, 7],
  ],
  [
    [2, 4, 8],
    [4, 8],
  ],
  [[5, 1030], [1030]],
  [
    [2, 128, 313],
    [128, 313],
  ],
];

test('fused complex multiplication matches the unfused ops on wasm and on cpu: values and all four gradients', async () => {
  for (const [x, w] of cases) {
    await initBackend('cpu');
    const cpu = run(x, w, false);
    await initBackend('wasm');
    const g = run(x, w, false);
    const fused = run(x, w, true);
    const names = ['yr', 'yi', 'dxr', 'dxi', 'dwr', 'dwi'];
    const [vsGraph, vsCpu] = [worst(fused, g), worst(fused, cpu)];
    for (let k = 0; k < names.length; k++) {
      assert.ok(vsGraph[k]! <= 1e-6, `${x} ${names[k]}: fused vs wasm graph ${vsGraph[k]}`);
      assert.ok(vsCpu[k]! <= 1e-6, `${x} ${names[k]}: fused vs cpu ${vsCpu[k]}`);
    }
  }
});

test('fused complex multiplication gradients equal central differences of a float64 formula', async () => {
  await initBackend('wasm');
  const [rows, n] = [3, 6];
  const vals = [rand(rows * n, 11), rand(rows * n, 12), rand(n, 13), rand(n, 14)];
  const [gr, gi] = [rand(rows * n, 15), rand(rows * n, 16)];
  const grads = tf.tidy(() =>
    tf
      .grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
        const p = complexMulFused(a, b, c, d);
        return tf.add(tf.sum(tf.mul(p.re, tf.tensor(gr, [rows, n]))), tf.sum(tf.mul(p.im, tf.tensor(gi, [rows, n]))));
      })(vals.map((v, k) => tf.tensor(v, k < 2 ? [rows, n] : [n])))
      .map((t) => t.dataSync() as Float32Array),
  );
  const v64 = vals.map((v) => Float64Array.from(v));
  const loss = (): number => {
    const [xr, xi, wr, wi] = v64 as [Float64Array, Float64Array, Float64Array, Float64Array];
    let s = 0;
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < n; j++) {
        const k = r * n + j;
        s += (xr[k]! * wr[j]! - xi[k]! * wi[j]!) * gr[k]! + (xr[k]! * wi[j]! + xi[k]! * wr[j]!) * gi[k]!;
      }
    return s;
  };
  const h = 1e-3;
  v64.forEach((arr, which) => {
    for (let i = 0; i < arr.length; i++) {
      const fd = centralDiff(loss, arr, i, h);
      const got = grads[which]![i]!;
      assert.ok(
        Math.abs(got - fd) <= 1e-5 * Math.max(1, Math.abs(fd)),
        `input ${which} element ${i}: ${got} vs fd ${fd}`,
      );
    }
  });
});

test('property: |x w| = |x| |w| per element, w = 1 is the identity, w = i rotates by 90 degrees', async () => {
  await initBackend('wasm');
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      (rows, n, seed) => {
        const [xr, xi, wr, wi] = [rand(rows * n, seed), rand(rows * n, seed + 1), rand(n, seed + 2), rand(n, seed + 3)];
        const out = tf.tidy(() => {
          const x = [tf.tensor(xr, [rows, n]), tf.tensor(xi, [rows, n])] as const;
          const p = complexMulFused(x[0], x[1], tf.tensor(wr), tf.tensor(wi));
          const one = complexMulFused(x[0], x[1], tf.ones([n]), tf.zeros([n]));
          const rot = complexMulFused(x[0], x[1], tf.zeros([n]), tf.ones([n]));
          return [p.re, p.im, one.re, one.im, rot.re, rot.im].map((t) => t.dataSync() as Float32Array);
        });
        for (let k = 0; k < rows * n; k++) {
          const j = k % n;
          const lhs = Math.hypot(out[0]![k]!, out[1]![k]!);
          const rhs = Math.hypot(xr[k]!, xi[k]!) * Math.hypot(wr[j]!, wi[j]!);
          assert.ok(Math.abs(lhs - rhs) <= 1e-6, `|xw| ${lhs} vs |x||w| ${rhs}`);
          // === (not Object.is): 0 and -0 are the same value here.
          assert.ok(out[2]![k] === xr[k] && out[3]![k] === xi[k], `x * 1 at ${k}`);
          assert.ok(out[4]![k] === -xi[k]! && out[5]![k] === xr[k], `x * i at ${k}`);
        }
      },
    ),
    { numRuns: 50, seed: 7 },
  );
});

test('the fused kernel applies only where w matches x trailing axes, on wasm', async () => {
  await initBackend('wasm');
  const x = tf.zeros([2, 3, 4]);
  assert.equal(fusedComplexMulAvailable(x, x, tf.zeros([3, 4]), tf.zeros([3, 4])), true);
  assert.equal(fusedComplexMulAvailable(x, x, tf.zeros([4, 3]), tf.zeros([4, 3])), false);
  assert.equal(fusedComplexMulAvailable(x, x, tf.zeros([3, 4]), tf.zeros([4])), false);
  await initBackend('cpu');
  const y = tf.zeros([2, 3, 4]);
  assert.equal(fusedComplexMulAvailable(y, y, tf.zeros([3, 4]), tf.zeros([3, 4])), false);
});
