import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { incompleteBeta, mean, pairedDifference, sd, tCdf, tQuantile } from '../tools/fidelity/stats.js';

// Two-sided 95 % critical values of Student's t (standard tables, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2).
const T975: Array<[number, number]> = [
  [1, 12.706],
  [2, 4.303],
  [4, 2.776],
  [9, 2.262],
  [19, 2.093],
  [29, 2.045],
  [120, 1.98],
];

test('tQuantile matches the tabulated 97.5 % points of Student t', () => {
  for (const [df, want] of T975)
    assert.ok(Math.abs(tQuantile(0.975, df) - want) < 1e-3, `df ${df}: ${tQuantile(0.975, df)}`);
});

test('tCdf: t with 1 degree of freedom is Cauchy, and the cdf inverts the quantile', () => {
  // Near 0 the cdf must keep t's digits (df / (df + t^2) rounds to 1 there): 1/2 + t / pi.
  for (const t of [3.1415927e-9, -4e-9, 1e-12, 2e-6])
    assert.ok(Math.abs(tCdf(t, 1) - (0.5 + Math.atan(t) / Math.PI)) < 1e-15, `t ${t}: ${tCdf(t, 1)}`);
  fc.assert(
    fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (t) => {
      assert.ok(Math.abs(tCdf(t, 1) - (0.5 + Math.atan(t) / Math.PI)) < 1e-9);
    }),
  );
  fc.assert(
    fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.integer({ min: 1, max: 200 }), (p, df) => {
      assert.ok(Math.abs(tCdf(tQuantile(p, df), df) - p) < 1e-8);
    }),
  );
});

test('incompleteBeta against closed forms: I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0.001, max: 0.999, noNaN: true }),
      fc.double({ min: 0.2, max: 30, noNaN: true }),
      (x, a) => {
        assert.ok(Math.abs(incompleteBeta(x, a, 1) - x ** a) < 1e-9);
        assert.ok(Math.abs(incompleteBeta(x, 1, a) - (1 - (1 - x) ** a)) < 1e-9);
      },
    ),
  );
});

test('pairedDifference: mean, interval from a float64 formula, and who is ahead', () => {
  const a = [0.732, 0.668, 0.719, 0.714, 0.76, 0.772, 0.746, 0.678, 0.703, 0.775];
  const b = [0.763, 0.758, 0.724, 0.78, 0.767, 0.763, 0.767, 0.779, 0.799, 0.792];
  const d = pairedDifference(a, b);
  const diffs = a.map((x, i) => x - b[i]!);
  assert.ok(Math.abs(d.mean - mean(diffs)) < 1e-15);
  const half = (2.2621571627 * sd(diffs)) / Math.sqrt(10);
  assert.ok(Math.abs(d.ci[0] - (d.mean - half)) < 1e-9 && Math.abs(d.ci[1] - (d.mean + half)) < 1e-9);
  assert.equal(d.aAhead, 1);
  assert.ok(d.ci[1] < 0 && d.p < 0.05);
  // Swapping the sides mirrors everything.
  const r = pairedDifference(b, a);
  assert.ok(Math.abs(r.mean + d.mean) < 1e-15 && Math.abs(r.ci[0] + d.ci[1]) < 1e-12 && Math.abs(r.p - d.p) < 1e-12);
});
