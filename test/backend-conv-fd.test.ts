import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { rand } from './fixtures/fused-check.js';

/**
 * The wasm conv kernels' gradients against central finite differences of a loss written out in
 * float64 JS (an independent conv loop): L = sum(dy * conv(x, w)). Covers the 3 x 3 depthwise conv
 * on both loop orders (pixel tiles at stride 1 and with 512 channels at stride 2, channel-block
 * walks at stride 2 otherwise) with its filter and input gradients (the strided one a register
 * gather), the global depthwise conv, and the stem's 4-channel direct conv with its gradients.
 */

type Geo = { x: number[]; k: number[]; s: number; pad: number; depthwise: boolean };

/** conv(x, w) in float64, PyTorch-style symmetric zero padding; depthwise: w [kh, kw, c, 1]. */
function convRef(x: Float64Array, w: Float64Array, g: Geo): Float64Array {
  const [n, h, wd, ci] = g.x as [number, number, number, number];
  const [kh, kw, , kco] = g.k as [number, number, number, number];
  const co = g.depthwise ? ci : kco;
  const ho = Math.floor((h + 2 * g.pad - kh) / g.s) + 1;
  const wo = Math.floor((wd + 2 * g.pad - kw) / g.s) + 1;
  const out = new Float64Array(n * ho * wo * co);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let o = 0; o < co; o++) {
          let sum = 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * g.s - g.pad + ky;
              const ix = ox * g.s - g.pad + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              const xi = ((b * h + iy) * wd + ix) * ci;
              if (g.depthwise) sum += x[xi + o]! * w[(ky * kw + kx) * ci + o]!;
              else for (let c = 0; c < ci; c++) sum += x[xi + c]! * w[((ky * kw + kx) * ci + c) * co + o]!;
            }
          out[((b * ho + oy) * wo + ox) * co + o] = sum;
        }
  return out;
}

function centralDifference(f: (v: Float64Array) => number, at: Float64Array, i: number): number {
  const h = 1e-2;
  const up = Float64Array.from(at);
  const down = Float64Array.from(at);
  up[i]! += h;
  down[i]! -= h;
  return (f(up) - f(down)) / (2 * h);
}

const cases: Geo[] = [
  { x: [1, 6, 13, 8], k: [3, 3, 8, 1], s: 1, pad: 1, depthwise: true },
  { x: [1, 9, 21, 12], k: [3, 3, 12, 1], s: 2, pad: 1, depthwise: true },
  { x: [1, 5, 21, 512], k: [3, 3, 512, 1], s: 2, pad: 1, depthwise: true },
  { x: [2, 8, 4, 20], k: [8, 4, 20, 1], s: 1, pad: 0, depthwise: true },
  { x: [1, 7, 13, 4], k: [3, 3, 4, 16], s: 2, pad: 1, depthwise: false },
];

test('depthwise, global and stem conv gradients on wasm agree with finite differences of a float64 reference', async () => {
  await initBackend('wasm');
  for (const g of cases) {
    const xs = rand(
      g.x.reduce((a, b) => a * b, 1),
      61,
    );
    const ws = rand(
      g.k.reduce((a, b) => a * b, 1),
      62,
    );
    const pad = [
      [0, 0],
      [g.pad, g.pad],
      [g.pad, g.pad],
      [0, 0],
    ] as unknown as 'valid';
    const op = (a: tf.Tensor, b: tf.Tensor) =>
      g.depthwise
        ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, g.s, pad)
        : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, g.s, pad);
    const x = tf.tensor(xs, g.x);
    const w = tf.tensor(ws, g.k);
    const y = op(x, w);
    const dys = rand(y.size, 63);
    const dy = tf.tensor(dys, y.shape);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a, b), dy)))([x, w]);
    const dx = gx!.dataSync();
    const dw = gw!.dataSync();
    tf.dispose([x, w, y, dy, gx!, gw!]);
    const x64 = Float64Array.from(xs);
    const w64 = Float64Array.from(ws);
    const loss = (xv: Float64Array, wv: Float64Array): number => {
      const out = convRef(xv, wv, g);
      let sum = 0;
      for (let i = 0; i < out.length; i++) sum += dys[i]! * out[i]!;
      return sum;
    };
    const label = JSON.stringify(g);
    // Corners, borders and interior of the input; first, middle and last filter taps.
    const [, h, wd, ci] = g.x as [number, number, number, number];
    const at = (y0: number, x0: number, c: number) => (y0 * wd + x0) * ci + c;
    // (Odd rows and columns: at stride 2 those input pixels get 2 x 2 taps.)
    const xIdx = [
      at(0, 0, 0),
      at(0, wd - 1, ci - 1),
      at(h - 1, 0, 1),
      at(h >> 1, wd >> 1, ci >> 1),
      at(1, 1, 2),
      at(h - 2, wd - 2, 3),
      xs.length - 1,
    ];
    for (const i of xIdx) {
      const fd = centralDifference((v) => loss(v, w64), x64, i);
      assert.ok(Math.abs(fd - dx[i]!) <= 1e-4 * Math.max(1, Math.abs(fd)), `${label} dx[${i}]: ${dx[i]} vs ${fd}`);
    }
    for (const i of [0, ws.length >> 1, ws.length - 1, 5]) {
      const fd = centralDifference((v) => loss(x64, v), w64, i);
      assert.ok(Math.abs(fd - dw[i]!) <= 1e-4 * Math.max(1, Math.abs(fd)), `${label} dw[${i}]: ${dw[i]} vs ${fd}`);
    }
  }
});
