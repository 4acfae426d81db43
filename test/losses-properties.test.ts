import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import {
  anomalyScoreTensor,
  arcFaceLoss,
  arcMixLoss,
  noisyArcMixLoss,
  softTripleLoss,
  softTripleSimilarities,
} from '../src/losses/index.js';
import * as plain from './fixtures/losses-plain.js';

before(async () => {
  await tf.setBackend('cpu');
});

type Mat = number[][];

interface Problem {
  emb: Mat;
  w: Mat; // class weights [C, D] or centres [C*K, D]
  a: number[];
  b: number[];
  C: number;
}

// Entries below 1e-3 in magnitude become exact zeros: rows are either zero (normalised to zero)
// or have a norm far above the 1e-6 normalisation floor, where the float64 formulas apply.
const entry = fc.double({ min: -10, max: 10, noNaN: true }).map((v) => (Math.abs(v) < 1e-3 ? 0 : v));
const matrix = (rows: number, cols: number) =>
  fc.array(fc.array(entry, { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows });
const norm = (r: number[]) => Math.sqrt(r.reduce((s, v) => s + v * v, 0));

/** B embeddings of dimension D, weights with rowsPerClass rows per class, labels A and B. */
const problem = (rowsPerClass = 1, opts: { nonzero?: boolean } = {}) =>
  fc
    .record({ B: fc.integer({ min: 1, max: 5 }), D: fc.integer({ min: 2, max: 6 }), C: fc.integer({ min: 2, max: 5 }) })
    .chain(({ B, D, C }) =>
      fc.record({
        emb: matrix(B, D),
        w: matrix(C * rowsPerClass, D),
        a: fc.array(fc.integer({ min: 0, max: C - 1 }), { minLength: B, maxLength: B }),
        b: fc.array(fc.integer({ min: 0, max: C - 1 }), { minLength: B, maxLength: B }),
        C: fc.constant(C),
      }),
    )
    .filter((p: Problem) => !opts.nonzero || [...p.emb, ...p.w].every((r) => norm(r) > 1e-3));

/** Softmax cross-entropy of the labels A on the scaled cosines, averaged over the batch (plain float64 JS). */
function scaledCosineCe(p: Problem, scale: number): number {
  const cos = plain.cosines(p.emb, p.w);
  return (
    cos.reduce(
      (acc, row, i) =>
        acc +
        plain.ce(
          row.map((c) => scale * c),
          p.a[i]!,
        ),
      0,
    ) / p.emb.length
  );
}

const arc = fc.record({
  margin: fc.double({ min: 0, max: Math.PI / 2, noNaN: true }),
  scale: fc.double({ min: 1, max: 64, noNaN: true }),
});
const st = fc.record({
  gamma: fc.double({ min: 0.01, max: 1, noNaN: true }),
  lambda: fc.double({ min: 1, max: 30, noNaN: true }),
  delta: fc.double({ min: 0, max: 0.2, noNaN: true }),
  tau: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
});
const lamArb = fc.double({ min: 0, max: 1, noNaN: true });
const K = fc.integer({ min: 1, max: 3 });

/**
 * ArcFace is ill-conditioned where a target cosine is near +-1 (d cos(theta + m) / d cos is
 * infinite there, so float32 rounding of the inputs moves the loss) and jumps at the fallback switch
 * cos = cos(pi - m) (as in the references). Comparisons of nearby inputs skip those problems.
 */
function wellConditioned(p: Problem, margin: number): boolean {
  const cos = plain.cosines(p.emb, p.w.slice(0, p.C));
  const th = Math.cos(Math.PI - margin);
  return p.emb.every((_, i) =>
    [p.a[i]!, p.b[i]!].every((y) => {
      const c = cos[i]![y]!;
      return 1 - Math.abs(c) > 1e-3 && Math.abs(c - th) > 1e-3;
    }),
  );
}

const value = (f: () => tf.Scalar): number => tf.tidy(() => f().dataSync()[0]!);
const close = (got: number, want: number, tol: number, msg = '') =>
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${msg} got ${got}, want ${want}`);
const T = (p: Problem) => ({
  emb: tf.tensor2d(p.emb),
  w: tf.tensor2d(p.w),
  a: tf.tensor1d(p.a, 'int32'),
  b: tf.tensor1d(p.b, 'int32'),
});
/** Every loss of the module on one problem (w = class weights for ArcFace, centres for SoftTriple). */
function allLosses(p: Problem, o: { margin: number; scale: number }, lam: number, s: plain.StOpts): number[] {
  return tf.tidy(() => {
    const t = T(p);
    const cls = tf.tensor2d(p.w.slice(0, p.C));
    return [
      arcFaceLoss(t.emb, cls, t.a, o),
      noisyArcMixLoss(t.emb, cls, t.a, t.b, lam, o),
      arcMixLoss(t.emb, cls, t.a, t.b, lam, o),
      softTripleLoss(t.emb, t.w, t.a, s),
    ].map((x) => x.dataSync()[0]!);
  });
}

const runs = { numRuns: 40 };

test('every loss is finite and >= 0 on arbitrary finite inputs (zero rows included)', () => {
  fc.assert(
    fc.property(
      K.chain((k) => fc.tuple(fc.constant(k), problem(k))),
      arc,
      lamArb,
      st,
      ([k, p], o, lam, s) => {
        // Zero a row now and then: normalisation must not divide by zero.
        if (p.emb.length > 1) p.emb[0] = p.emb[0]!.map(() => 0);
        for (const v of allLosses(p, o, lam, { ...s, K: k })) assert.ok(Number.isFinite(v) && v >= 0, `loss ${v}`);
      },
    ),
    runs,
  );
});

test('invariant to positive rescaling of the embeddings and to permuting the batch', () => {
  fc.assert(
    fc.property(
      K.chain((k) => fc.tuple(fc.constant(k), problem(k, { nonzero: true }))),
      arc,
      lamArb,
      st,
      fc.double({ min: 0.01, max: 100, noNaN: true }),
      fc.integer({ min: 0, max: 1000 }),
      ([k, p], o, lam, s, factor, rot) => {
        fc.pre(wellConditioned(p, o.margin));
        const ref = allLosses(p, o, lam, { ...s, K: k });
        const scaled = allLosses({ ...p, emb: p.emb.map((r) => r.map((v) => v * factor)) }, o, lam, { ...s, K: k });
        const n = p.emb.length;
        const perm = Array.from({ length: n }, (_, i) => (i + rot) % n).reverse();
        const permuted = allLosses(
          { ...p, emb: perm.map((i) => p.emb[i]!), a: perm.map((i) => p.a[i]!), b: perm.map((i) => p.b[i]!) },
          o,
          lam,
          { ...s, K: k },
        );
        ref.forEach((v, i) => {
          close(scaled[i]!, v, 2e-4, `rescaled loss ${i}`);
          close(permuted[i]!, v, 2e-4, `permuted loss ${i}`);
        });
      },
    ),
    runs,
  );
});

test('ArcFace with m = 0 equals softmax cross-entropy on s*cos (plain float64 JS)', () => {
  fc.assert(
    fc.property(problem(), fc.double({ min: 1, max: 64, noNaN: true }), (p, scale) => {
      const t = T(p);
      const got = value(() => arcFaceLoss(t.emb, t.w, t.a, { margin: 0, scale }));
      tf.dispose(Object.values(t));
      close(got, scaledCosineCe(p, scale), 1e-4);
    }),
    runs,
  );
});

test('a larger margin never lowers the loss of a correctly classified sample', () => {
  fc.assert(
    fc.property(problem(), arc, fc.double({ min: 0, max: Math.PI / 2, noNaN: true }), (p, o, m2) => {
      const [m1, m2s] = o.margin <= m2 ? [o.margin, m2] : [m2, o.margin];
      const t = T(p);
      const l1 = tf.tidy(() =>
        Array.from(anomalyScoreTensor(t.emb, t.w, t.a, { margin: m1, scale: o.scale }).dataSync()),
      );
      const l2 = tf.tidy(() =>
        Array.from(anomalyScoreTensor(t.emb, t.w, t.a, { margin: m2s, scale: o.scale }).dataSync()),
      );
      tf.dispose(Object.values(t));
      const cos = plain.cosines(p.emb, p.w);
      for (let i = 0; i < p.emb.length; i++) {
        const correct = cos[i]!.every((c, k) => c <= cos[i]![p.a[i]!]! || k === p.a[i]);
        if (correct)
          assert.ok(l2[i]! >= l1[i]! - 1e-4 * Math.max(1, l1[i]!), `m ${m1} -> ${m2s}: ${l1[i]} -> ${l2[i]}`);
      }
    }),
    runs,
  );
});

test('mixup losses: lam = 1 is ArcFace on A, ArcMix lam = 0 is ArcFace on B, linear in lam, equal when m = 0', () => {
  fc.assert(
    fc.property(problem(), arc, lamArb, (p, o, lam) => {
      const t = T(p);
      const af = (y: tf.Tensor1D, opt = o) => value(() => arcFaceLoss(t.emb, t.w, y, opt));
      const nam = (l: number, opt = o) => value(() => noisyArcMixLoss(t.emb, t.w, t.a, t.b, l, opt));
      const am = (l: number, opt = o) => value(() => arcMixLoss(t.emb, t.w, t.a, t.b, l, opt));
      close(nam(1), af(t.a), 1e-5, 'noisy lam=1');
      close(am(1), af(t.a), 1e-5, 'arcmix lam=1');
      close(am(0), af(t.b), 1e-5, 'arcmix lam=0');
      close(nam(lam), lam * nam(1) + (1 - lam) * nam(0), 1e-4, 'noisy linear');
      close(am(lam), lam * am(1) + (1 - lam) * am(0), 1e-4, 'arcmix linear');
      const m0 = { margin: 0, scale: o.scale };
      close(nam(lam, m0), am(lam, m0), 1e-4, 'm = 0');
      // And against the plain float64 formulas.
      close(nam(lam), plain.noisyArcMix(p.emb, p.w, p.a, p.b, lam, o.margin, o.scale), 1e-4, 'noisy vs plain');
      close(am(lam), plain.arcMix(p.emb, p.w, p.a, p.b, lam, o.margin, o.scale), 1e-4, 'arcmix vs plain');
      tf.dispose(Object.values(t));
    }),
    runs,
  );
});

test('SoftTriple with K = 1, delta = 0, tau = 0 is normalised-softmax cross-entropy with scale lambda', () => {
  fc.assert(
    fc.property(
      problem(1),
      fc.double({ min: 1, max: 30, noNaN: true }),
      fc.double({ min: 0.01, max: 1, noNaN: true }),
      (p, lambda, gamma) => {
        const t = T(p);
        const got = value(() => softTripleLoss(t.emb, t.w, t.a, { K: 1, delta: 0, tau: 0, lambda, gamma }));
        tf.dispose(Object.values(t));
        close(got, scaledCosineCe(p, lambda), 1e-4);
      },
    ),
    runs,
  );
});

test('SoftTriple: gamma -> 0 approaches the max-similarity centre (0 <= max - S <= (K-1) gamma / e)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 4 }).chain((k) => fc.tuple(fc.constant(k), problem(k))),
      fc.constantFrom(0.1, 1e-2, 1e-3),
      ([k, p], gamma) => {
        const t = T(p);
        const S = tf.tidy(() => softTripleSimilarities(t.emb, t.w, { K: k, gamma }).arraySync());
        tf.dispose(Object.values(t));
        const cos = plain.cosines(p.emb, p.w);
        S.forEach((row, i) =>
          row.forEach((s, c) => {
            const mx = Math.max(...cos[i]!.slice(c * k, (c + 1) * k));
            assert.ok(s <= mx + 1e-6, `S ${s} above the max ${mx}`);
            assert.ok(mx - s <= ((k - 1) * gamma) / Math.E + 1e-6, `gamma ${gamma}: max ${mx} - S ${s}`);
          }),
        );
      },
    ),
    runs,
  );
});

test('SoftTriple equals the plain formula; the regulariser adds exactly tau * reg and nothing when tau = 0', () => {
  fc.assert(
    fc.property(
      K.chain((k) => fc.tuple(fc.constant(k), problem(k))),
      st,
      ([k, p], s) => {
        const t = T(p);
        const o = { ...s, K: k };
        const withTau = value(() => softTripleLoss(t.emb, t.w, t.a, o));
        const noTau = value(() => softTripleLoss(t.emb, t.w, t.a, { ...o, tau: 0 }));
        tf.dispose(Object.values(t));
        close(withTau, plain.softTriple(p.emb, p.w, p.a, o), 1e-4, 'vs plain');
        close(noTau, plain.softTriple(p.emb, p.w, p.a, { ...o, tau: 0 }), 1e-4, 'tau 0 vs plain without reg');
        close(withTau - noTau, s.tau * plain.softTripleReg(p.w, k), 1e-4, 'tau * reg');
      },
    ),
    runs,
  );
});

/** Max |a - b| relative to the gradient's scale. */
function gradError(got: Mat, want: Mat): number {
  const scale = Math.max(1, ...want.flat().map(Math.abs));
  return Math.max(...got.flat().map((g, i) => Math.abs(g - want.flat()[i]!))) / scale;
}

test('gradients (tf.variableGrads, float32) agree with central finite differences of the float64 formulas', () => {
  fc.assert(
    fc.property(
      K.chain((k) => fc.tuple(fc.constant(k), problem(k, { nonzero: true }))),
      arc,
      lamArb,
      st,
      ([k, p], o, lam, s) => {
        fc.pre(wellConditioned(p, o.margin));
        const so = { ...s, K: k };
        const cls = p.w.slice(0, p.C);
        const cases: Array<[string, (x: Mat, w: Mat) => number, (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Scalar, Mat]> = [
          [
            'arcface',
            (x, w) => plain.arcFace(x, w, p.a, o.margin, o.scale),
            (x, w) => arcFaceLoss(x, w, tf.tensor1d(p.a, 'int32'), o),
            cls,
          ],
          [
            'noisy-arcmix',
            (x, w) => plain.noisyArcMix(x, w, p.a, p.b, lam, o.margin, o.scale),
            (x, w) => noisyArcMixLoss(x, w, tf.tensor1d(p.a, 'int32'), tf.tensor1d(p.b, 'int32'), lam, o),
            cls,
          ],
          [
            'arcmix',
            (x, w) => plain.arcMix(x, w, p.a, p.b, lam, o.margin, o.scale),
            (x, w) => arcMixLoss(x, w, tf.tensor1d(p.a, 'int32'), tf.tensor1d(p.b, 'int32'), lam, o),
            cls,
          ],
          [
            'softtriple',
            (x, w) => plain.softTriple(x, w, p.a, so),
            (x, w) => softTripleLoss(x, w, tf.tensor1d(p.a, 'int32'), so),
            p.w,
          ],
        ];
        for (const [name, f64, f32, w0] of cases) {
          const x = tf.variable(tf.tensor2d(p.emb));
          const w = tf.variable(tf.tensor2d(w0));
          const { grads, value: v } = tf.variableGrads(
            () => f32(x as tf.Tensor as tf.Tensor2D, w as tf.Tensor as tf.Tensor2D),
            [x, w],
          );
          const gx = grads[x.name]!.arraySync() as Mat;
          const gw = grads[w.name]!.arraySync() as Mat;
          tf.dispose([x, w, v, ...Object.values(grads)]);
          const ex = gradError(
            gx,
            plain.numericGrad((xx) => f64(xx, w0), p.emb),
          );
          const ew = gradError(
            gw,
            plain.numericGrad((ww) => f64(p.emb, ww), w0),
          );
          assert.ok(ex < 2e-3 && ew < 2e-3, `${name}: gradient error emb ${ex}, weights ${ew}`);
        }
      },
    ),
    { numRuns: 25 },
  );
});

test('no NaN gradient at a zero embedding, at cos exactly 1 and -1, or at an embedding equal to a centre', () => {
  const w = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const embs: Array<[string, Mat]> = [
    [
      'zero',
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
    ],
    [
      'cos = 1',
      [
        [1, 0, 0],
        [0, 2, 0],
      ],
    ],
    [
      'cos = -1',
      [
        [-1, 0, 0],
        [0, -3, 0],
      ],
    ],
  ];
  for (const [what, e] of embs) {
    for (const margin of [0, 0.7]) {
      const x = tf.variable(tf.tensor2d(e));
      const wv = tf.variable(tf.tensor2d(w));
      const centers = tf.variable(tf.tensor2d([...w, ...w.map((r) => r.map((v) => -v))]));
      const labels = tf.tensor1d([0, 1], 'int32');
      const partner = tf.tensor1d([2, 0], 'int32');
      const fns: Array<[string, () => tf.Scalar]> = [
        [
          'arcface',
          () =>
            arcFaceLoss(x as tf.Tensor as tf.Tensor2D, wv as tf.Tensor as tf.Tensor2D, labels, { margin, scale: 30 }),
        ],
        [
          'noisy-arcmix',
          () =>
            noisyArcMixLoss(x as tf.Tensor as tf.Tensor2D, wv as tf.Tensor as tf.Tensor2D, labels, partner, 0.4, {
              margin,
            }),
        ],
        [
          'arcmix',
          () =>
            arcMixLoss(x as tf.Tensor as tf.Tensor2D, wv as tf.Tensor as tf.Tensor2D, labels, partner, 0.4, { margin }),
        ],
        // 6 centres = 3 classes x K 2, with duplicates and opposite pairs (reg at its extremes).
        [
          'softtriple',
          () =>
            softTripleLoss(x as tf.Tensor as tf.Tensor2D, centers as tf.Tensor as tf.Tensor2D, labels, {
              K: 2,
              tau: 0.5,
            }),
        ],
      ];
      for (const [name, f] of fns) {
        const { value: v, grads } = tf.variableGrads(
          f,
          [x, wv, centers].filter((t) => (name === 'softtriple') === (t === centers) || t === x),
        );
        assert.ok(Number.isFinite(v.dataSync()[0]!), `${name} ${what} m=${margin}: loss ${v.dataSync()[0]}`);
        for (const [k, g] of Object.entries(grads)) {
          assert.ok(g.dataSync().every(Number.isFinite), `${name} ${what} m=${margin}: NaN/Inf gradient for ${k}`);
        }
        tf.dispose([v, ...Object.values(grads)]);
      }
      tf.dispose([x, wv, centers, labels, partner]);
    }
  }
});
