import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { initBackend } from '../src/backend/select.js';
import { centralDiff, rand, worst } from './fixtures/fused-check.js';
import { layerNormGraph, layerNorm, layerNormLeakyRelu } from '../src/model/nn.js';
import { fusedLayerNormAvailable } from '../src/backend/kernels/layernorm.js';

/**
 * The fused LayerNorm (+ LeakyReLU) kernel on wasm against the unfused tfjs graph (moments and
 * element-wise ops, on wasm and on the cpu backend), values and gradients; its gradients against
 * central differences of an independent float64 formula; and properties of the normalisation.
 */

interface Case {
  x: number[];
  axis: number;
  /** gamma / beta shape: n values along the axis, ones after it. */
  g: number[];
  slope?: number;
}

// inner 5 (a 4-lane block and a tail), n 70 (two blocks of 64 rows), inner 1 (last-axis
// LayerNorm), rank 4, Tgram's shape at a small scale, with and without the LeakyReLU.
const cases: Case[] = [
  { x: [2, 7, 5], axis: 1, g: [7, 1] },
  { x: [2, 7, 5], axis: 1, g: [7, 1], slope: 0.2 },
  { x: [3, 70, 12], axis: 1, g: [70, 1], slope: 0.2 },
  { x: [4, 9], axis: -1, g: [9] },
  { x: [4, 9], axis: 1, g: [9], slope: 0 },
  { x: [2, 3, 6, 8], axis: 2, g: [6, 1] },
  { x: [1, 33, 128], axis: 1, g: [33, 1], slope: 0.2 },
];

/** [y, dx, dgamma, dbeta] of loss = sum(f(x) * dy), f fused or the graph, on the current backend. */
function run(c: Case, fused: boolean): Float32Array[] {
  return tf.tidy(() => {
    const nx = c.x.reduce((a, b) => a * b, 1);
    const ng = c.g.reduce((a, b) => a * b, 1);
    const x = tf.add(tf.mul(tf.tensor(rand(nx, 1), c.x), 4), 3); // mean far from 0, std ~1.2
    const gamma = tf.add(tf.tensor(rand(ng, 2), c.g), 1);
    const beta = tf.tensor(rand(ng, 3), c.g);
    const dy = tf.tensor(rand(nx, 4), c.x);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      if (fused) {
        assert.ok(fusedLayerNormAvailable(a, g, b, c.axis), `fused kernel applies to ${JSON.stringify(c)}`);
        return c.slope === undefined ? layerNorm(a, g, b, c.axis) : layerNormLeakyRelu(a, g, b, c.axis, c.slope);
      }
      const y = layerNormGraph(a, g, b, c.axis);
      return c.slope === undefined ? y : tf.leakyRelu(y, c.slope);
    };
    const y = f(x, gamma, beta);
    const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), dy)))([
      x,
      gamma,
      beta,
    ]);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

test('fused LayerNorm (+ LeakyReLU) matches the unfused graph on wasm and on cpu: values and gradients', async () => {
  const found: number[] = [0, 0, 0, 0];
  for (const c of cases) {
    await initBackend('cpu');
    const cpu = run(c, false);
    await initBackend('wasm');
    const graph = run(c, false);
    const fused = run(c, true);
    const vsGraph = worst(fused, graph);
    const vsCpu = worst(fused, cpu);
    const graphVsCpu = worst(graph, cpu);
    const names = ['y', 'dx', 'dgamma', 'dbeta'];
    for (let k = 0; k < 4; k++) {
      found[k] = Math.max(found[k]!, vsGraph[k]!);
      assert.ok(vsGraph[k]! <= 2e-5, `${JSON.stringify(c)} ${names[k]}: fused vs wasm graph ${vsGraph[k]}`);
      assert.ok(
        vsCpu[k]! <= 2e-5,
        `${JSON.stringify(c)} ${names[k]}: fused vs cpu graph ${vsCpu[k]} (wasm graph vs cpu ${graphVsCpu[k]})`,
      );
    }
  }
  // The differences are rounding, not zero by construction: a kernel that returned the graph's own
  // tensors would read 0 everywhere.
  assert.ok(
    found.some((e) => e > 0),
    `fused and unfused differ by ${found.join(', ')}`,
  );
});

/** float64 LayerNorm (+ LeakyReLU) of x [outer, n, inner], loss = sum(y * dy). */
function loss64(
  x: Float64Array,
  g: Float64Array,
  b: Float64Array,
  dy: Float32Array,
  outer: number,
  n: number,
  inner: number,
  slope: number | undefined,
): number {
  let sum = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let mean = 0;
      for (let t = 0; t < n; t++) mean += x[(o * n + t) * inner + i]!;
      mean /= n;
      let v = 0;
      for (let t = 0; t < n; t++) v += (x[(o * n + t) * inner + i]! - mean) ** 2;
      v /= n;
      for (let t = 0; t < n; t++) {
        const k = (o * n + t) * inner + i;
        let z = ((x[k]! - mean) / Math.sqrt(v + 1e-5)) * g[t]! + b[t]!;
        if (slope !== undefined && z <= 0) z *= slope;
        sum += z * dy[k]!;
      }
    }
  }
  return sum;
}

test('fused LayerNorm gradients equal central differences of an independent float64 formula', async () => {
  await initBackend('wasm');
  for (const slope of [undefined, 0.2]) {
    const [outer, n, inner] = [2, 6, 5];
    const shape = [outer, n, inner];
    const xs = Float32Array.from(rand(outer * n * inner, 7), (v) => v * 3 + 1);
    const gs = Float32Array.from(rand(n, 8), (v) => v + 1);
    const bs = rand(n, 9);
    const dys = rand(outer * n * inner, 10);
    const [dx, dg, db] = tf.tidy(() => {
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        slope === undefined ? layerNorm(a, g, b, 1) : layerNormLeakyRelu(a, g, b, 1, slope);
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(f(a, g, b), tf.tensor(dys, shape))),
      )([tf.tensor(xs, shape), tf.tensor(gs, [n, 1]), tf.tensor(bs, [n, 1])]);
      return grads.map((t) => t.dataSync() as Float32Array);
    });
    const x64 = Float64Array.from(xs);
    const g64 = Float64Array.from(gs);
    const b64 = Float64Array.from(bs);
    const h = 1e-4;
    const fd = (arr: Float64Array, i: number): number =>
      centralDiff(() => loss64(x64, g64, b64, dys, outer, n, inner, slope), arr, i, h);
    for (let i = 0; i < x64.length; i++) {
      const want = fd(x64, i);
      assert.ok(
        Math.abs(dx![i]! - want) <= 1e-4 * Math.max(1, Math.abs(want)),
        `slope ${slope} dx[${i}] ${dx![i]} fd ${want}`,
      );
    }
    for (let t = 0; t < n; t++) {
      const wg = fd(g64, t);
      const wb = fd(b64, t);
      assert.ok(
        Math.abs(dg![t]! - wg) <= 1e-4 * Math.max(1, Math.abs(wg)),
        `slope ${slope} dgamma[${t}] ${dg![t]} fd ${wg}`,
      );
      assert.ok(
        Math.abs(db![t]! - wb) <= 1e-4 * Math.max(1, Math.abs(wb)),
        `slope ${slope} dbeta[${t}] ${db![t]} fd ${wb}`,
      );
    }
  }
});

test('property: fused LayerNorm output has zero mean and unit variance per column, its input gradient is orthogonal to 1 and (but for eps) to the normalised input', async () => {
  await initBackend('wasm');
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 2, max: 80 }),
      fc.integer({ min: 1, max: 11 }),
      fc.double({ min: -50, max: 50, noNaN: true }),
      fc.double({ min: 0.5, max: 20, noNaN: true }),
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      check,
    ),
    { numRuns: 40, seed: 25 },
  );
  /** One random case: x [outer, n, inner] = shift + spread * uniform noise, gamma 1, beta 0. */
  function check(outer: number, n: number, inner: number, shift: number, spread: number, seed: number): void {
    const shape = [outer, n, inner];
    const size = outer * n * inner;
    const xs = Float32Array.from(rand(size, seed), (v) => v * spread + shift);
    const dys = rand(size, seed + 1);
    const [y, dx] = tf.tidy(() => {
      const ones = tf.ones([n, 1]);
      const zeros = tf.zeros([n, 1]);
      const f = (a: tf.Tensor) => layerNorm(a, ones, zeros, 1);
      const x = tf.tensor(xs, shape);
      const [g] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(f(a), tf.tensor(dys, shape))))([x]);
      return [f(x).dataSync() as Float32Array, g!.dataSync() as Float32Array];
    });
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const col = (arr: Float32Array) => Array.from({ length: n }, (_, t) => arr[(o * n + t) * inner + i]!);
        const yc = col(y);
        const xc = col(xs);
        const m = xc.reduce((a, v) => a + v, 0) / n;
        const variance = xc.reduce((a, v) => a + (v - m) ** 2, 0) / n;
        if (variance < 1e-2) continue; // eps dominates: not unit variance
        const ym = yc.reduce((a, v) => a + v, 0) / n;
        const yv = yc.reduce((a, v) => a + (v - ym) ** 2, 0) / n;
        const want = variance / (variance + 1e-5);
        assert.ok(Math.abs(ym) < 1e-4, `column mean ${ym}`);
        assert.ok(Math.abs(yv - want) < 1e-3, `column variance ${yv}, want ${want}`);
        const dc = col(dx);
        const dyc = col(dys);
        const inv = 1 / Math.sqrt(variance + 1e-5);
        // dx = inv (dy - mean(dy) - xhat mean(dy xhat)) cancels: float32 leaves ~1e-7 of its terms,
        // more when |mean| >> std (x - mean loses the digits of the mean).
        const rel = 1e-5 * (1 + Math.abs(m) / Math.sqrt(variance));
        const tol = rel * inv * dyc.reduce((a, v) => a + Math.abs(v), 0);
        const s1 = dc.reduce((a, v) => a + v, 0);
        const s2 = dc.reduce((a, v, t) => a + v * yc[t]!, 0);
        // sum dx xhat = inv (sum dy xhat) eps / (var + eps): 0 but for the eps term.
        const s2want = (inv * dyc.reduce((a, v, t) => a + v * yc[t]!, 0) * 1e-5) / (variance + 1e-5);
        assert.ok(Math.abs(s1) <= tol, `sum of dx ${s1} (tolerance ${tol})`);
        assert.ok(Math.abs(s2 - s2want) <= tol, `sum of dx * xhat ${s2}, want ${s2want} (tolerance ${tol})`);
      }
    }
  }
});

test('fused LayerNorm does not apply where gamma does not match the axis, and other backends run the graph', async () => {
  await initBackend('wasm');
  const x = tf.zeros([2, 5, 3]);
  assert.equal(fusedLayerNormAvailable(x, tf.ones([5, 1]), tf.zeros([5, 1]), 1), true);
  assert.equal(fusedLayerNormAvailable(x, tf.ones([5]), tf.zeros([5]), 1), false); // broadcasts on the last axis
  assert.equal(fusedLayerNormAvailable(x, tf.ones([3]), tf.zeros([3]), -1), true);
  assert.equal(fusedLayerNormAvailable(x, tf.ones([5, 3]), tf.zeros([5, 3]), 1), false);
  await initBackend('cpu');
  assert.equal(fusedLayerNormAvailable(tf.zeros([2, 5, 3]), tf.ones([5, 1]), tf.zeros([5, 1]), 1), false);
});
