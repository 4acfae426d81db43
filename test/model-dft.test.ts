import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { initBackend } from '../src/backend/select.js';
import { dft2Real, dft2RealTimeMajor, dftMatrices, idft2Real, idft2RealTimeMajor } from '../src/model/dft.js';
import {
  dftFoldConfig,
  dftFoldGradConfig,
  dftMirrorConfig,
  dftMirrorGradConfig,
} from '../src/backend/kernels/dft-glue.js';

/**
 * The half-spectrum DFTs of src/model/dft.ts against independent float64 sums written here
 * (forward, and the real part of the inverse of an arbitrary, non-Hermitian spectrum), and
 * their gradients against the float64 adjoints, central differences, and the gradients tfjs
 * derives for the plain four-products-per-axis graph. Odd and even sizes, 1, 2 and 3 included.
 */

type Grid = number[][][]; // [B][rows][cols]

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

const grid = (b: number, r: number, c: number, rand: () => number): Grid =>
  Array.from({ length: b }, () => Array.from({ length: r }, () => Array.from({ length: c }, rand)));

/** F[k, l] = sum x[a, c] exp(-2 pi i (k a / M + l c / T)), float64. */
function naiveDft2(x: number[][]): { re: number[][]; im: number[][] } {
  const [m, t] = [x.length, x[0]!.length];
  const re = x.map((r) => r.map(() => 0));
  const im = x.map((r) => r.map(() => 0));
  for (let k = 0; k < m; k++)
    for (let l = 0; l < t; l++)
      for (let a = 0; a < m; a++)
        for (let c = 0; c < t; c++) {
          const ang = -2 * Math.PI * ((k * a) / m + (l * c) / t);
          re[k]![l]! += x[a]![c]! * Math.cos(ang);
          im[k]![l]! += x[a]![c]! * Math.sin(ang);
        }
  return { re, im };
}

/** real(IDFT2(Z))[a, c] = sum Re(Z[k, l] exp(+2 pi i (k a / M + l c / T))) / (M T), float64. */
function naiveIdft2Real(zr: number[][], zi: number[][]): number[][] {
  const [m, t] = [zr.length, zr[0]!.length];
  const out = zr.map((r) => r.map(() => 0));
  for (let a = 0; a < m; a++)
    for (let c = 0; c < t; c++)
      for (let k = 0; k < m; k++)
        for (let l = 0; l < t; l++) {
          const ang = 2 * Math.PI * ((k * a) / m + (l * c) / t);
          out[a]![c]! += (zr[k]![l]! * Math.cos(ang) - zi[k]![l]! * Math.sin(ang)) / (m * t);
        }
  return out;
}

/** The gradient of sum(dy * real(IDFT2(Z))) with respect to (Zr, Zi): the float64 adjoint. */
function naiveIdftAdjoint(dy: number[][]): { re: number[][]; im: number[][] } {
  const [m, t] = [dy.length, dy[0]!.length];
  const re = dy.map((r) => r.map(() => 0));
  const im = dy.map((r) => r.map(() => 0));
  for (let k = 0; k < m; k++)
    for (let l = 0; l < t; l++)
      for (let a = 0; a < m; a++)
        for (let c = 0; c < t; c++) {
          const ang = 2 * Math.PI * ((k * a) / m + (l * c) / t);
          re[k]![l]! += (dy[a]![c]! * Math.cos(ang)) / (m * t);
          im[k]![l]! -= (dy[a]![c]! * Math.sin(ang)) / (m * t);
        }
  return { re, im };
}

/** The plain graph: four full products per axis with the N x N matrices (what dft.ts replaced). */
function plainDft2(x: tf.Tensor3D): { re: tf.Tensor3D; im: tf.Tensor3D } {
  const [b, m, t] = x.shape;
  const [wm, wt] = [dftMatrices(m), dftMatrices(t)];
  const melLast = (v: tf.Tensor3D) => tf.transpose(v, [0, 2, 1]).reshape([b * t, m]);
  const melBack = (v: tf.Tensor) => tf.transpose(v.reshape([b, t, m]), [0, 2, 1]).reshape([b * m, t]);
  const pr = melBack(tf.matMul(melLast(x), wm.cos));
  const pi = melBack(tf.neg(tf.matMul(melLast(x), wm.sin)));
  const re = tf.add(tf.matMul(pr, wt.cos), tf.matMul(pi, wt.sin));
  const im = tf.sub(tf.matMul(pi, wt.cos), tf.matMul(pr, wt.sin));
  return { re: re.reshape([b, m, t]), im: im.reshape([b, m, t]) };
}

function plainIdft2Real(zr: tf.Tensor3D, zi: tf.Tensor3D): tf.Tensor3D {
  const [b, m, t] = zr.shape;
  const [wm, wt] = [dftMatrices(m), dftMatrices(t)];
  const [r2, i2] = [zr.reshape([b * m, t]), zi.reshape([b * m, t])];
  const ar = tf.sub(tf.matMul(r2, wt.cos), tf.matMul(i2, wt.sin)).reshape([b, m, t]) as tf.Tensor3D;
  const ai = tf.add(tf.matMul(r2, wt.sin), tf.matMul(i2, wt.cos)).reshape([b, m, t]) as tf.Tensor3D;
  const melLast = (v: tf.Tensor3D) => tf.transpose(v, [0, 2, 1]).reshape([b * t, m]);
  const out = tf.sub(tf.matMul(melLast(ar), wm.cos), tf.matMul(melLast(ai), wm.sin)).div(m * t);
  return tf.transpose(out.reshape([b, t, m]), [0, 2, 1]) as tf.Tensor3D;
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => Math.max(s, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((s, v, i) => Math.max(s, Math.abs(v - b[i]!)), 0);
const flat = (g: Grid | number[][]) => (g as unknown[]).flat(2) as number[];
const swap = (g: number[][]) => g[0]!.map((_, j) => g.map((r) => r[j]!));

/** Sizes 1..9 for either axis, with the edge cases 1, 2, 3 drawn often. */
const size = fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max: 9 }));
const shape = fc.record({ b: fc.integer({ min: 1, max: 2 }), m: size, t: size, seed: fc.nat() });

for (const backend of ['cpu', 'wasm'] as const) {
  test(`${backend}: dft2Real (mel-major) and dft2RealTimeMajor equal a float64 2-D DFT (property)`, async () => {
    await initBackend(backend);
    fc.assert(
      fc.property(shape, ({ b, m, t, seed }) => {
        const xs = grid(b, m, t, lcg(seed));
        tf.tidy(() => {
          const x = tf.tensor3d(xs);
          const f = dft2Real(x);
          const g = dft2RealTimeMajor(x);
          assert.deepEqual(f.re.shape, [b, m, t]);
          assert.deepEqual(g.re.shape, [b, t, m]);
          const refs = xs.map(naiveDft2);
          const tol = 1e-5 * m * t;
          assert.ok(maxDiff(f.re.dataSync(), flat(refs.map((r) => r.re))) < tol, `re ${b}x${m}x${t}`);
          assert.ok(maxDiff(f.im.dataSync(), flat(refs.map((r) => r.im))) < tol, `im ${b}x${m}x${t}`);
          assert.ok(maxDiff(g.re.dataSync(), flat(refs.map((r) => swap(r.re)))) < tol, `time-major re`);
          assert.ok(maxDiff(g.im.dataSync(), flat(refs.map((r) => swap(r.im)))) < tol, `time-major im`);
        });
      }),
      { numRuns: 60 },
    );
  });

  test(`${backend}: idft2Real of an arbitrary (non-Hermitian) spectrum equals float64 real(IDFT2), both layouts (property)`, async () => {
    await initBackend(backend);
    fc.assert(
      fc.property(shape, ({ b, m, t, seed }) => {
        const rand = lcg(seed);
        const [zr, zi] = [grid(b, m, t, rand), grid(b, m, t, rand)];
        tf.tidy(() => {
          const out = idft2Real({ re: tf.tensor3d(zr), im: tf.tensor3d(zi) });
          const tm = idft2RealTimeMajor({ re: tf.tensor3d(zr.map(swap)), im: tf.tensor3d(zi.map(swap)) });
          const ref = flat(zr.map((r, i) => naiveIdft2Real(r, zi[i]!)));
          assert.deepEqual(out.shape, [b, m, t]);
          assert.ok(maxDiff(out.dataSync(), ref) < 1e-5, `${b}x${m}x${t}: ${maxDiff(out.dataSync(), ref)}`);
          assert.ok(maxDiff(tm.dataSync(), ref) < 1e-5, `time-major ${b}x${m}x${t}`);
        });
      }),
      { numRuns: 60 },
    );
  });

  test(`${backend}: idft2Real's gradient equals the float64 adjoint, central differences and the plain graph's gradient (property)`, async () => {
    await initBackend(backend);
    fc.assert(
      fc.property(shape, ({ b, m, t, seed }) => {
        const rand = lcg(seed);
        const [zr, zi, dy, vr, vi] = [0, 1, 2, 3, 4].map(() => grid(b, m, t, rand)) as Grid[];
        tf.tidy(() => {
          const [tzr, tzi, tdy] = [tf.tensor3d(zr!), tf.tensor3d(zi!), tf.tensor3d(dy!)];
          const loss = (f: (a: tf.Tensor3D, c: tf.Tensor3D) => tf.Tensor3D) => (a: tf.Tensor, c: tf.Tensor) =>
            tf.sum(tf.mul(f(a as tf.Tensor3D, c as tf.Tensor3D), tdy));
          const ours = loss((a, c) => idft2Real({ re: a, im: c }));
          const [gr, gi] = tf.grads(ours)([tzr, tzi]) as [tf.Tensor, tf.Tensor];
          const [pr, pi] = tf.grads(loss(plainIdft2Real))([tzr, tzi]) as [tf.Tensor, tf.Tensor];
          const adj = dy!.map(naiveIdftAdjoint);
          const scale = Math.max(maxAbs(flat(adj.map((a) => a.re))), maxAbs(flat(adj.map((a) => a.im))), 1e-3);
          assert.ok(maxDiff(gr.dataSync(), flat(adj.map((a) => a.re))) < 1e-5 * scale + 1e-6, `adjoint re`);
          assert.ok(maxDiff(gi.dataSync(), flat(adj.map((a) => a.im))) < 1e-5 * scale + 1e-6, `adjoint im`);
          assert.ok(maxDiff(gr.dataSync(), pr.dataSync()) < 1e-5 * scale + 1e-6, 'plain graph re');
          assert.ok(maxDiff(gi.dataSync(), pi.dataSync()) < 1e-5 * scale + 1e-6, 'plain graph im');
          // Central difference along a random direction (the map is linear: exact up to rounding).
          const [dvr, dvi] = [tf.tensor3d(vr!), tf.tensor3d(vi!)];
          const eps = 0.5;
          const f = (s: number) => ours(tf.add(tzr, tf.mul(dvr, s)), tf.add(tzi, tf.mul(dvi, s))).dataSync()[0]!;
          const fd = (f(eps) - f(-eps)) / (2 * eps);
          const dir = tf.add(tf.sum(tf.mul(gr, dvr)), tf.sum(tf.mul(gi, dvi))).dataSync()[0]!;
          assert.ok(Math.abs(fd - dir) < 1e-4 * (1 + Math.abs(dir)), `central difference ${fd} vs ${dir}`);
        });
      }),
      { numRuns: 40 },
    );
  });

  test(`${backend}: dft2Real's gradient equals the plain graph's and central differences (property)`, async () => {
    await initBackend(backend);
    fc.assert(
      fc.property(shape, ({ b, m, t, seed }) => {
        const rand = lcg(seed);
        const [xs, dr, di, v] = [0, 1, 2, 3].map(() => grid(b, m, t, rand)) as Grid[];
        tf.tidy(() => {
          const [x, tdr, tdi, dv] = [xs!, dr!, di!, v!].map((g) => tf.tensor3d(g));
          const loss = (f: (a: tf.Tensor3D) => { re: tf.Tensor; im: tf.Tensor }) => (a: tf.Tensor) => {
            const y = f(a as tf.Tensor3D);
            return tf.add(tf.sum(tf.mul(y.re, tdr!)), tf.sum(tf.mul(y.im, tdi!)));
          };
          const g = tf.grad(loss(dft2Real))(x!);
          const p = tf.grad(loss(plainDft2))(x!);
          const tol = 1e-5 * m * t * (1 + maxAbs(p.dataSync()));
          assert.ok(maxDiff(g.dataSync(), p.dataSync()) < tol, `plain graph ${maxDiff(g.dataSync(), p.dataSync())}`);
          const f = (s: number) => loss(dft2Real)(tf.add(x!, tf.mul(dv!, s))).dataSync()[0]!;
          const fd = (f(0.5) - f(-0.5)) / 1;
          const dir = tf.sum(tf.mul(g, dv!)).dataSync()[0]!;
          assert.ok(Math.abs(fd - dir) < 1e-4 * m * t * (1 + Math.abs(dir)), `central difference ${fd} vs ${dir}`);
        });
      }),
      { numRuns: 30 },
    );
  });
}

test('DFT matrices are exactly symmetric and period-symmetric: C[N-k, n] = C[k, n], S[N-k, n] = -S[k, n]', async () => {
  await initBackend('cpu');
  for (const n of [1, 2, 3, 8, 63, 128, 313]) {
    const { cos, sin } = dftMatrices(n);
    const [c, s] = [cos.arraySync(), sin.arraySync()];
    for (let k = 0; k < n; k++)
      for (let j = 0; j < n; j++) {
        // === (not Object.is): -0 and 0 are the same value here.
        assert.ok(c[k]![j] === c[j]![k] && s[k]![j] === s[j]![k], `symmetric at ${k}, ${j} (n = ${n})`);
        assert.ok(c[(n - k) % n]![j] === c[k]![j], `C[N - k] at ${k}, ${j} (n = ${n})`);
        assert.ok(s[(n - k) % n]![j] === -s[k]![j]!, `S[N - k] at ${k}, ${j} (n = ${n})`);
        assert.ok(Math.abs(c[k]![j]! - Math.cos((2 * Math.PI * k * j) / n)) < 1e-6);
        assert.ok(Math.abs(s[k]![j]! - Math.sin((2 * Math.PI * k * j) / n)) < 1e-6);
      }
  }
});

test('wasm: the fused DFT glue kernels (dft-glue.ts) give the same bits as the plain ops, values and gradients', async () => {
  await initBackend('wasm');
  const kernels = [dftMirrorConfig, dftMirrorGradConfig, dftFoldConfig, dftFoldGradConfig];
  assert.ok(tf.getKernel(dftFoldConfig.kernelName, 'wasm'), 'the kernels are registered on wasm');
  const run = (b: number, m: number, t: number, seed: number) =>
    tf.tidy(() => {
      const rand = lcg(seed);
      const [x, zr, zi, dy] = [0, 1, 2, 3].map(() => tf.tensor3d(grid(b, m, t, rand)));
      const f = dft2Real(x!);
      const loss = (a: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(idft2Real({ re: a as tf.Tensor3D, im: c as tf.Tensor3D }), dy!));
      const g = tf.grads(loss)([zr!, zi!]);
      const gf = tf.grad((a: tf.Tensor) => {
        const y = dft2Real(a as tf.Tensor3D);
        return tf.add(tf.sum(tf.mul(y.re, zr!)), tf.sum(tf.mul(y.im, zi!)));
      })(x!);
      const out = idft2Real({ re: zr!, im: zi! });
      return [f.re, f.im, out, ...g, gf].map((v) => Array.from(v.dataSync()));
    });
  const cases: Array<[number, number, number]> = [
    [1, 1, 1],
    [2, 3, 2],
    [1, 2, 3],
    [2, 5, 8],
    [3, 7, 9],
    [2, 16, 63],
  ];
  const fused = cases.map(([b, m, t], i) => run(b, m, t, i + 1));
  const used = (await tf.profile(() => run(2, 4, 5, 9))).kernelNames;
  for (const k of kernels) assert.ok(used.includes(k.kernelName), `${k.kernelName} runs on wasm`);
  for (const k of kernels) tf.unregisterKernel(k.kernelName, 'wasm');
  try {
    const plain = cases.map(([b, m, t], i) => run(b, m, t, i + 1));
    cases.forEach((c, i) => assert.deepEqual(fused[i], plain[i], `${c.join(' x ')}`));
  } finally {
    for (const k of kernels) tf.registerKernel(k);
  }
});
