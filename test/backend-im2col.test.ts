import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { conv1d, conv1dGraph } from '../src/model/nn.js';
import { fusedIm2colAvailable } from '../src/backend/kernels/im2col.js';
import { assertSameAsGraph, centralDiff, rand, valueAndGrads } from './fixtures/fused-check.js';

/**
 * The 1-D conv columns kernel (src/backend/kernels/im2col.ts) against the tfjs graph it replaces
 * (pad, slices, concat; conv1dGraph): bit for bit on wasm, to rounding against the cpu backend,
 * values and both gradients; and its gradients against central differences of a float64 conv.
 * Geometries: Tgram's k 3 / s 1 / p 1 and its front conv's shape (k = 2 strides, pad = 1 stride,
 * one input channel), k = 2 strides with a pad that is not a stride, and a pad wider than the
 * kernel (whole windows of padding).
 */
type Geo = { b: number; len: number; cin: number; cout: number; k: number; s: number; pad: number };

const cases: Geo[] = [
  { b: 2, len: 9, cin: 5, cout: 4, k: 3, s: 1, pad: 1 },
  { b: 3, len: 40, cin: 1, cout: 6, k: 8, s: 4, pad: 4 },
  { b: 2, len: 11, cin: 3, cout: 2, k: 4, s: 2, pad: 1 },
  { b: 1, len: 5, cin: 2, cout: 3, k: 2, s: 1, pad: 3 },
];

/** y, dx, dw of sum(conv1d(x, w) * r) as flat arrays (the fused path where it applies). */
function run(g: Geo, fused: boolean): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor3d(rand(g.b * g.len * g.cin, 11), [g.b, g.len, g.cin]);
    const w = tf.tensor3d(rand(g.k * g.cin * g.cout, 12), [g.k, g.cin, g.cout]);
    const op = (a: tf.Tensor3D, c: tf.Tensor3D) => (fused ? conv1d(a, c, g.s, g.pad) : conv1dGraph(a, c, g.s, g.pad));
    return valueAndGrads(op, x, w, 13);
  });
}

test('conv1d columns kernel: bit for bit the tfjs graph on wasm, and the cpu graph to rounding', async () => {
  for (const g of cases) {
    await initBackend('cpu');
    const cpu = run(g, false);
    await initBackend('wasm');
    assert.ok(fusedIm2colAvailable(tf.zeros([g.b, g.len, g.cin]), g.k, g.s));
    const graph = run(g, false);
    const fused = run(g, true);
    // The same columns, products and sums in the same order: identical floats.
    assertSameAsGraph(JSON.stringify(g), fused, graph, cpu);
  }
});

/** sum(r * conv1d(x, w)) in float64 with PyTorch's zero padding: an independent loop. */
function loss64(g: Geo, x: Float64Array, w: Float64Array, r: Float32Array): number {
  const out = Math.floor((g.len + 2 * g.pad - g.k) / g.s) + 1;
  let sum = 0;
  for (let n = 0; n < g.b; n++)
    for (let t = 0; t < out; t++)
      for (let o = 0; o < g.cout; o++) {
        let y = 0;
        for (let kk = 0; kk < g.k; kk++) {
          const i = t * g.s + kk - g.pad;
          if (i < 0 || i >= g.len) continue;
          for (let c = 0; c < g.cin; c++) y += x[(n * g.len + i) * g.cin + c]! * w[(kk * g.cin + c) * g.cout + o]!;
        }
        sum += y * r[(n * out + t) * g.cout + o]!;
      }
  return sum;
}

test('conv1d columns kernel: gradients equal central differences of a float64 conv', async () => {
  await initBackend('wasm');
  for (const g of cases) {
    const [, dx, dw] = run(g, true) as [Float32Array, Float32Array, Float32Array];
    const out = Math.floor((g.len + 2 * g.pad - g.k) / g.s) + 1;
    const r = rand(g.b * out * g.cout, 13);
    const x = Float64Array.from(rand(g.b * g.len * g.cin, 11));
    const w = Float64Array.from(rand(g.k * g.cin * g.cout, 12));
    const f = () => loss64(g, x, w, r);
    for (const [arr, grad, name] of [
      [x, dx, 'dx'],
      [w, dw, 'dw'],
    ] as const) {
      for (let i = 0; i < arr.length; i++) {
        const fd = centralDiff(f, arr, i, 1e-2);
        assert.ok(
          Math.abs(fd - grad[i]!) <= 1e-5 * (1 + Math.abs(fd)),
          `${JSON.stringify(g)} ${name}[${i}]: ${grad[i]} vs ${fd}`,
        );
      }
    }
  }
});
