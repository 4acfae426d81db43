import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRandom } from '../src/random/index.js';

const draws = (r: SeededRandom, n: number, f: (r: SeededRandom) => number) => Array.from({ length: n }, () => f(r));
const meanVar = (x: number[]) => {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return [m, x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1)] as const;
};

test('same seed, same sequence; different seeds differ', () => {
  const a = new SeededRandom(7);
  const b = new SeededRandom(7);
  assert.deepEqual(
    draws(a, 50, (r) => r.beta(0.5)),
    draws(b, 50, (r) => r.beta(0.5)),
  );
  assert.deepEqual(a.permutation(20), b.permutation(20));
  assert.notDeepEqual(
    draws(new SeededRandom(8), 5, (r) => r.uniform()),
    draws(new SeededRandom(7), 5, (r) => r.uniform()),
  );
});

test('getState / setState resumes the exact sequence, through JSON', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 30 }), (seed, skip) => {
      const r = new SeededRandom(seed);
      draws(r, skip, (x) => x.beta(0.5));
      const saved = JSON.parse(JSON.stringify(r.getState())) as number[];
      const next = [r.beta(0.5), ...r.permutation(8), r.uniform()];
      const resumed = new SeededRandom(12345);
      resumed.setState(saved);
      assert.deepEqual([resumed.beta(0.5), ...resumed.permutation(8), resumed.uniform()], next);
    }),
    { numRuns: 50 },
  );
  assert.throws(() => new SeededRandom(1).setState([0, 0, 0, 0]), /not all 0/);
  assert.throws(() => new SeededRandom(1).setState([1, 2, 3]), /four unsigned 32-bit integers/);
});

test('uniform is in [0, 1) with mean 1/2 and variance 1/12', () => {
  const x = draws(new SeededRandom(1), 40000, (r) => r.uniform());
  assert.ok(x.every((v) => v >= 0 && v < 1));
  const [m, v] = meanVar(x);
  assert.ok(Math.abs(m - 0.5) < 0.01 && Math.abs(v - 1 / 12) < 0.005, `${m} ${v}`);
});

test('Gamma(k) and Beta(a, b) have the right mean and variance (Marsaglia-Tsang, shape < 1 boost)', () => {
  const r = new SeededRandom(3);
  for (const k of [0.5, 1, 2.5]) {
    const [m, v] = meanVar(draws(r, 30000, (x) => x.gamma(k)));
    assert.ok(
      Math.abs(m - k) < 0.05 * Math.max(1, k) && Math.abs(v - k) < 0.1 * Math.max(1, k),
      `Gamma(${k}): mean ${m} var ${v}`,
    );
  }
  for (const [a, b] of [
    [0.5, 0.5],
    [2, 5],
    [0.2, 0.2],
  ] as const) {
    const x = draws(r, 30000, (s) => s.beta(a, b));
    assert.ok(x.every((v) => v >= 0 && v <= 1));
    const [m, v] = meanVar(x);
    const em = a / (a + b);
    const ev = (a * b) / ((a + b) ** 2 * (a + b + 1));
    assert.ok(
      Math.abs(m - em) < 0.01 && Math.abs(v - ev) < 0.01,
      `Beta(${a}, ${b}): mean ${m} (want ${em}) var ${v} (want ${ev})`,
    );
  }
  // Beta(1/2, 1/2) is the arcsine law: P(lambda < 0.1) = (2/pi) asin(sqrt(0.1)) = 0.2048.
  const x = draws(r, 30000, (s) => s.beta(0.5));
  const below = x.filter((v) => v < 0.1).length / x.length;
  assert.ok(Math.abs(below - (2 / Math.PI) * Math.asin(Math.sqrt(0.1))) < 0.01, `P(<0.1) = ${below}`);
});

test('permutation: a permutation of 0..n-1, all orders about equally often', () => {
  const r = new SeededRandom(11);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 200 }), (n) => {
      assert.deepEqual(
        [...r.permutation(n)].sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i),
      );
    }),
    { numRuns: 50 },
  );
  const counts = new Map<string, number>();
  for (let i = 0; i < 12000; i++) {
    const k = r.permutation(3).join('');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const c of counts.values()) assert.ok(Math.abs(c - 2000) < 200, `count ${c}`);
});
