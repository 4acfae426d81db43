import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { auc, partialAuc, partialAucMcclish, rocMetrics } from '../src/metrics/roc.js';
import { UserError } from '../src/util/errors.js';

const close = (a: number, b: number, tol = 1e-9, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

/** O(n^2) AUC straight from the definition: P(s+ > s-) + P(s+ = s-)/2. */
function naiveAuc(y: number[], s: number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < y.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      sum += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

/** The ROC as explicit points (one per distinct threshold), then the area up to p, / p. */
function naivePartialAuc(y: number[], s: number[], p: number): number {
  const nP = y.filter((v) => v === 1).length;
  const nN = y.length - nP;
  const thresholds = [...new Set(s)].sort((a, b) => b - a);
  const pts: Array<[number, number]> = [[0, 0]];
  for (const t of thresholds) {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < y.length; i++) if (s[i]! >= t) y[i] === 1 ? tp++ : fp++;
    pts.push([fp / nN, tp / nP]);
  }
  let area = 0;
  for (let k = 1; k < pts.length; k++) {
    const [x0, y0] = pts[k - 1]!;
    const [x1, y1] = pts[k]!;
    if (x0 >= p) break;
    const xe = Math.min(x1, p);
    const ye = x1 === x0 ? y1 : y0 + ((y1 - y0) * (xe - x0)) / (x1 - x0);
    area += ((xe - x0) * (y0 + ye)) / 2;
  }
  return area / p;
}

/** Labels with both classes and matching scores; `ties` draws scores from a few values. */
const dataset = (ties: boolean) =>
  fc
    .integer({ min: 2, max: 60 })
    .chain((n) =>
      fc.tuple(
        fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
        ties
          ? fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n })
          : fc.uniqueArray(fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), {
              minLength: n,
              maxLength: n,
            }),
      ),
    )
    .filter(([y]) => y.includes(0) && y.includes(1));

test('fixture: auc, pauc and McClish pauc equal scikit-learn (with ties, several p)', () => {
  const fx = JSON.parse(readFileSync(new URL('./fixtures/metrics.json', import.meta.url), 'utf8')) as {
    cases: Array<{
      labels: number[];
      scores: number[];
      maxFpr: number;
      auc: number;
      pauc: number;
      paucMcclish: number;
    }>;
  };
  assert.ok(fx.cases.length >= 10);
  for (const [k, c] of fx.cases.entries()) {
    close(auc(c.labels, c.scores), c.auc, 1e-12, `case ${k} auc`);
    close(partialAuc(c.labels, c.scores, c.maxFpr), c.pauc, 1e-12, `case ${k} pauc`);
    close(partialAucMcclish(c.labels, c.scores, c.maxFpr), c.paucMcclish, 1e-12, `case ${k} mcclish`);
    const all = rocMetrics(c.labels, c.scores, c.maxFpr);
    close(all.paucMcclish, c.paucMcclish, 1e-12, `case ${k} rocMetrics`);
  }
});

test('fixed examples', () => {
  assert.equal(auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]), 1);
  assert.equal(auc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]), 0);
  assert.equal(auc([0, 1], [5, 5]), 0.5);
  assert.equal(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  // Perfect detector: every pAUC is 1; inverted: 0 (paper) and 0.5 * (1 - (p^2/2)/(p - p^2/2)) (McClish).
  assert.equal(partialAuc([0, 0, 1, 1], [0, 1, 2, 3]), 1);
  assert.equal(partialAucMcclish([0, 0, 1, 1], [0, 1, 2, 3]), 1);
  assert.equal(partialAuc([0, 0, 1, 1], [3, 2, 1, 0]), 0);
  close(partialAucMcclish([0, 0, 1, 1], [3, 2, 1, 0]), 0.5 * (1 - 0.005 / 0.095));
  // All tied: the ROC is the diagonal, raw area p^2/2, paper pAUC p/2, McClish exactly 0.5.
  close(partialAuc([0, 1, 0, 1], [1, 1, 1, 1], 0.1), 0.05);
  close(partialAucMcclish([0, 1, 0, 1], [1, 1, 1, 1], 0.1), 0.5);
});

test('AUC is in [0, 1] and equals the O(n^2) pair count (with ties)', () => {
  fc.assert(
    fc.property(dataset(true), ([y, s]) => {
      const a = auc(y, s);
      assert.ok(a >= 0 && a <= 1);
      close(a, naiveAuc(y, s), 1e-12);
    }),
    { numRuns: 200 },
  );
});

test('AUC(s) + AUC(-s) = 1 without ties', () => {
  fc.assert(
    fc.property(dataset(false), ([y, s]) =>
      close(
        auc(y, s) +
          auc(
            y,
            s.map((v) => -v),
          ),
        1,
        1e-12,
      ),
    ),
    { numRuns: 200 },
  );
});

test('AUC and both pAUCs are invariant to strictly increasing transforms', () => {
  const transforms: Array<(x: number) => number> = [
    (x) => 3 * x + 7,
    (x) => Math.atan(x / 1e6),
    (x) => Math.cbrt(x),
    (x) => Math.sign(x) * Math.log1p(Math.abs(x)),
  ];
  fc.assert(
    fc.property(dataset(true), fc.integer({ min: 0, max: transforms.length - 1 }), ([y, s], k) => {
      const t = s.map(transforms[k]!);
      // Integer ties stay ties and the order is kept by each transform.
      close(auc(y, t), auc(y, s), 1e-12);
      close(partialAuc(y, t), partialAuc(y, s), 1e-12);
      close(partialAucMcclish(y, t), partialAucMcclish(y, s), 1e-12);
    }),
    { numRuns: 150 },
  );
});

test('pAUC <= 1 and equals the area of the explicit ROC up to p, / p; McClish follows from it', () => {
  fc.assert(
    fc.property(fc.boolean().chain(dataset), fc.double({ min: 0.01, max: 1, noNaN: true }), ([y, s], p) => {
      const pa = partialAuc(y, s, p);
      assert.ok(pa >= 0 && pa <= 1 + 1e-12, `pauc ${pa}`);
      close(pa, naivePartialAuc(y, s, p), 1e-9);
      const raw = pa * p;
      const mc = p === 1 ? raw : 0.5 * (1 + (raw - (p * p) / 2) / (p - (p * p) / 2));
      close(partialAucMcclish(y, s, p), mc, 1e-9);
      // p = 1 gives the whole AUC.
      close(partialAuc(y, s, 1), auc(y, s), 1e-12);
    }),
    { numRuns: 200 },
  );
});

test('invalid input is a clear UserError', () => {
  assert.throws(
    () => auc([0, 1], [1]),
    (e: unknown) => e instanceof UserError && /differ in length/.test(e.message),
  );
  assert.throws(
    () => auc([0, 0], [1, 2]),
    (e: unknown) => e instanceof UserError && /both classes/.test(e.message),
  );
  assert.throws(() => auc([1, 1], [1, 2]), /both classes/);
  assert.throws(() => auc([0, 2], [1, 2]), /labels\[1\] is 2/);
  assert.throws(() => auc([0, 1], [1, NaN]), /scores\[1\] is NaN/);
  assert.throws(() => partialAuc([0, 1], [1, 2], 0), /maxFpr must be in \(0, 1\]/);
  assert.throws(() => partialAucMcclish([0, 1], [1, 2], 1.5), /maxFpr/);
});

// Speed is measured by bench/roc.ts (npm run bench), not asserted here: a timed assertion fails on a
// busy machine and passes a wrong O(n^2) sort on a fast one.
test('1e6 scores: AUC of U(0,1) vs U(0.1,1.1) equals the closed form', () => {
  const n = 1_000_000;
  const y = new Uint8Array(n);
  const s = new Float64Array(n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    y[i] = i % 2;
    s[i] = seed / 2 ** 32 + 0.1 * y[i]!;
  }
  const m = rocMetrics(y, s);
  close(m.auc, 1 - 0.9 ** 2 / 2, 3e-3, 'U(0,1) vs U(0.1,1.1)'); // P(U + 0.1 > V) = 1 - 0.9^2/2
});
