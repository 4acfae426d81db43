import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { dft2Real, dftMatrices, idft2Real } from '../src/model/dft.js';
import { SpecNetBranch } from '../src/model/branches/specnet.js';
import type { ClipGeometry } from '../src/model/types.js';

await tf.setBackend('cpu');

/** Naive complex 2-D DFT in float64, the independent reference. */
function naiveDft2(x: number[][]): { re: number[][]; im: number[][] } {
  const m = x.length,
    t = x[0]!.length;
  const re = x.map((r) => r.map(() => 0));
  const im = x.map((r) => r.map(() => 0));
  for (let k = 0; k < m; k++)
    for (let l = 0; l < t; l++) {
      let sr = 0,
        si = 0;
      for (let a = 0; a < m; a++)
        for (let b = 0; b < t; b++) {
          const ang = -2 * Math.PI * ((k * a) / m + (l * b) / t);
          sr += x[a]![b]! * Math.cos(ang);
          si += x[a]![b]! * Math.sin(ang);
        }
      re[k]![l] = sr;
      im[k]![l] = si;
    }
  return { re, im };
}

test('DFT matrices invert each other: W conj(W) / N = I to 1e-5 (sizes 128, 313, 32)', () => {
  for (const n of [128, 313, 32]) {
    const err = tf.tidy(() => {
      const { cos: c, sin: s } = dftMatrices(n);
      // (C - iS)(C + iS) / N = (C C + S S) / N + i (C S - S C) / N
      const re = tf.add(tf.matMul(c, c), tf.matMul(s, s)).div(n);
      const im = tf.sub(tf.matMul(c, s), tf.matMul(s, c)).div(n);
      return Math.max(tf.max(tf.abs(re.sub(tf.eye(n)))).dataSync()[0]!, tf.max(tf.abs(im)).dataSync()[0]!);
    });
    assert.ok(err < 1e-5, `n=${n}: max |W W^H / N - I| = ${err}`);
  }
});

test('dft2Real matches a naive float64 2-D DFT, and idft2Real inverts it (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 0, max: 1e6 }),
      (m, t, b, seed) => {
        let s = seed;
        const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
        const xs = Array.from({ length: b }, () => Array.from({ length: m }, () => Array.from({ length: t }, rand)));
        tf.tidy(() => {
          const x = tf.tensor3d(xs);
          const f = dft2Real(x);
          const re = f.re.arraySync(),
            im = f.im.arraySync();
          for (let i = 0; i < b; i++) {
            const ref = naiveDft2(xs[i]!);
            for (let k = 0; k < m; k++)
              for (let l = 0; l < t; l++) {
                assert.ok(Math.abs(re[i]![k]![l]! - ref.re[k]![l]!) < 1e-4);
                assert.ok(Math.abs(im[i]![k]![l]! - ref.im[k]![l]!) < 1e-4);
              }
          }
          const back = idft2Real(f);
          assert.ok(tf.max(tf.abs(back.sub(x))).dataSync()[0]! < 1e-5);
        });
      },
    ),
    { numRuns: 40 },
  );
});

const clip: ClipGeometry = { sampleRate: 16000, samples: 8000, hop: 512, nMels: 16, frames: 16 };

test('SpecNet with zero FourierConv2D weights returns F_LM exactly (residual identity)', () => {
  const net = new SpecNetBranch('specnet', 0, clip);
  for (const [k, v] of net.trainable()) if (/\/c[12]\//.test(k)) v.assign(tf.zerosLike(v));
  const logmel = tf.randomNormal([2, 16, 16], -40, 10, 'float32', 1) as tf.Tensor3D;
  for (const training of [true, false]) {
    const ctx = { training, updates: [] as Array<() => void> };
    const out = net.apply({ wave: tf.zeros([2, 8000]) as tf.Tensor2D, logmel }, ctx);
    assert.deepEqual(out.dataSync(), logmel.dataSync());
    for (const u of ctx.updates) u();
    out.dispose();
  }
  net.dispose();
});

test('SpecNet with nonzero weights changes the map (the branch is not a pass-through)', () => {
  const net = new SpecNetBranch('specnet', 0, clip);
  const logmel = tf.randomNormal([2, 16, 16], -40, 10, 'float32', 2) as tf.Tensor3D;
  const out = net.apply({ wave: tf.zeros([2, 8000]) as tf.Tensor2D, logmel }, { training: false, updates: [] });
  const diff = tf.max(tf.abs(out.sub(logmel))).dataSync()[0]!;
  assert.ok(diff > 1e-4 && Number.isFinite(diff), `max |F_S - F_LM| = ${diff}`);
  net.dispose();
});
