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
  // Both gradients from one pass (pw_grads): one pixel chunk in 4 column ranges, packed.
  { x: [2, 8, 4, 128], cout: 512 },
  { x: [3, 5, 2, 7], cout: 5 },
  // pw_grads: 4 pixel chunks x 2 row ranges, packed, 262 input channels (a partial last strip of dx).
  { x: [3, 20, 35, 262], cout: 40 },
  // pw_grads: 2 pixel chunks, unpacked (few channels), 9 input channels.
  { x: [1, 40, 30, 9], cout: 12 },
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
    // The fused op first: its outputs must not land in heap blocks that still hold the graph's results.
    const fused = run(g, true);
    const unfused = run(g, false);
    assertSameAsGraph(JSON.stringify(g), fused, unfused, cpu);
  }
});

test('1 x 1 conv op: gradients equal central differences of a float64 product', async () => {
  await initBackend('wasm');
  // The two products (7 channels), and both gradients from one pass (pw_grads, 2 pixel chunks).
  for (const g of [cases[2]!, cases[4]!]) checkCentral(g);
});

function checkCentral(g: Geo): void {
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
  // Every weight; inputs at a stride (each costs two passes of the float64 product).
  const stride = Math.max(1, Math.floor(x.length / 400));
  for (const [arr, grad, name, step] of [
    [x, dx, 'dx', stride],
    [w, dw, 'dw', 1],
  ] as const) {
    for (let i = 0; i < arr.length; i += step) {
      const fd = centralDiff(f, arr, i, 1e-2);
      assert.ok(
        Math.abs(fd - grad[i]!) <= 1e-5 * (1 + Math.abs(fd)),
        `${JSON.stringify(g)} ${name}[${i}]: ${grad[i]} vs ${fd}`,
      );
    }
  }
}
