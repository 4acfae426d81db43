import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { conv2d } from '../src/model/nn.js';
import { fusedPointwiseAvailable } from '../src/backend/kernels/pointwise.js';
import { assertSameAsGraph, centralDiff, rand, valueAndGrads } from './fixtures/fused-check.js';

/**
 * The 1 x 1 conv op (src/backend/kernels/pointwise.ts, what nn.conv2d runs on wasm for 1 x 1
 * kernels) against the reshape / matMul / reshape graph it replaces: bit for bit on wasm and to
 * rounding on the cpu backend, values and both gradients; and its gradients against central
 * differences of a float64 product. Shapes: MobileFaceNet's expansion and projection sizes, small,
 * and a channel count that is not a multiple of 4 or 8.
 */
type Geo = { x: [number, number, number, number]; cout: number };
const cases: Geo[] = [
  { x: [2, 4, 3, 8], cout: 16 },
  { x: [2, 8, 4, 128], cout: 512 },
  { x: [3, 5, 2, 7], cout: 5 },
];

/** The graph nn.conv2d ran before the fused op (and still runs off wasm). */
function graph(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const [b, h, wd, cin] = x.shape;
  const cout = w.shape[3];
  return tf.matMul(x.reshape([b * h * wd, cin]), w.reshape([cin, cout])).reshape([b, h, wd, cout]);
}

function run(g: Geo, fused: boolean): Float32Array[] {
  return tf.tidy(() => {
    const cin = g.x[3];
    const x = tf.tensor4d(
      rand(
        g.x.reduce((a, b) => a * b, 1),
        21,
      ),
      g.x,
    );
    const w = tf.tensor4d(rand(cin * g.cout, 22), [1, 1, cin, g.cout]);
    const op = (a: tf.Tensor4D, c: tf.Tensor4D) => (fused ? conv2d(a, c, 1, 0) : graph(a, c));
    return valueAndGrads(op, x, w, 23);
  });
}

test('1 x 1 conv op: bit for bit the reshape / matMul graph on wasm, and the cpu graph to rounding', async () => {
  for (const g of cases) {
    await initBackend('cpu');
    const cpu = run(g, false);
    await initBackend('wasm');
    assert.ok(fusedPointwiseAvailable(tf.zeros(g.x), tf.zeros([1, 1, g.x[3], g.cout])));
    const unfused = run(g, false);
    const fused = run(g, true);
    assertSameAsGraph(JSON.stringify(g), fused, unfused, cpu);
  }
});

test('1 x 1 conv op: gradients equal central differences of a float64 product', async () => {
  await initBackend('wasm');
  const g = cases[2]!;
  const [n, h, wd, cin] = g.x;
  const pixels = n * h * wd;
  const [, dx, dw] = run(g, true) as [Float32Array, Float32Array, Float32Array];
  const x = Float64Array.from(rand(pixels * cin, 21));
  const w = Float64Array.from(rand(cin * g.cout, 22));
  const r = rand(pixels * g.cout, 23);
  const f = () => {
    let sum = 0;
    for (let p = 0; p < pixels; p++)
      for (let o = 0; o < g.cout; o++) {
        let y = 0;
        for (let c = 0; c < cin; c++) y += x[p * cin + c]! * w[c * g.cout + o]!;
        sum += y * r[p * g.cout + o]!;
      }
    return sum;
  };
  for (const [arr, grad, name] of [
    [x, dx, 'dx'],
    [w, dw, 'dw'],
  ] as const) {
    for (let i = 0; i < arr.length; i++) {
      const fd = centralDiff(f, arr, i, 1e-2);
      assert.ok(Math.abs(fd - grad[i]!) <= 1e-5 * (1 + Math.abs(fd)), `${name}[${i}]: ${grad[i]} vs ${fd}`);
    }
  }
});
