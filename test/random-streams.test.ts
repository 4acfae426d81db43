import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mulberry32, seedFrom, Rng } from '../src/random/index.js';
import { hashString, deriveSeed, SeededRandom, lcg32 } from '../src/random/index.js';
import { noise, pinkNoise } from '../src/data/synth/dsp.js';

// Every seeded stream exp draws from, pinned by its first values as the code produced them
// before the generators were gathered into one module: weights, mixup, data subsets and the
// synthetic set of every stored run depend on these sequences staying exactly as they are.

const take = (n: number, f: () => number): number[] => Array.from({ length: n }, f);
const sha256 = (a: Float32Array): string =>
  createHash('sha256')
    .update(Buffer.from(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');

test('mulberry32 (synthetic set, data subsets): first values of two seeds', () => {
  assert.deepEqual(
    take(5, mulberry32(42)),
    [0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 0.6697340414393693, 0.17481389874592423],
  );
  assert.deepEqual(take(3, mulberry32(0)), [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]);
});

test('seedFrom, hashString, deriveSeed: the seeds streams are derived with', () => {
  assert.deepEqual(
    [seedFrom(7, 'fan', 'id_00'), seedFrom('val-split'), seedFrom(0)],
    [2741273295, 1743647064, 1693486945],
  );
  assert.deepEqual([hashString('backbone'), hashString('')], [4041954276, 2166136261]);
  assert.deepEqual([deriveSeed(1, 'backbone'), deriveSeed(0, 'head')], [1859922517, 845761475]);
});

test("the synthetic set's Rng: uniform, int, cached-pair normal, logNormal, chance, pick in sequence", () => {
  const r = new Rng(123);
  assert.deepEqual(
    [
      r.next(),
      r.uniform(2, 5),
      r.int(0, 9),
      r.normal(),
      r.normal(),
      r.normal(),
      r.logNormal(0.3),
      r.chance(0.5),
      r.pick(['a', 'b', 'c', 'd']),
    ],
    [
      0.7872516233474016,
      2.5356306966859847,
      4,
      -1.2158670085976653,
      1.2038318535165586,
      0.3955421419026361,
      0.8720860416798079,
      false,
      'd',
    ],
  );
});

test("weight initialisation's stream: uniform and one-value-per-call normal", () => {
  const r = new Rng(deriveSeed(1, 'backbone'));
  assert.deepEqual(
    [r.uniform(), r.gaussian(), r.gaussian(), r.uniform()],
    [0.5284254578873515, 0.5319007230461162, -1.2451860724633084, 0.1376580293290317],
  );
});

test("mixup's SeededRandom (xoshiro128**): state from a seed, raw, uniform, normal, gamma, beta, permutation", () => {
  const r = new SeededRandom(7);
  assert.deepEqual(r.getState(), [588686121, 1937383562, 4286812467, 2372217166]);
  assert.deepEqual(
    [r.nextUint32(), r.uniform(), r.normal(), r.gamma(0.5), r.beta(0.5), r.permutation(8)],
    [
      1004282400,
      0.5122324187227679,
      -1.8482348797796406,
      0.21014907152895942,
      0.4617126335075664,
      [6, 1, 4, 0, 5, 7, 3, 2],
    ],
  );
  assert.deepEqual(r.getState(), [729547868, 3383792578, 1003860844, 2745290770]);
});

test("the synthetic set's white and pink noise (the inlined mulberry32 loop): first samples and a digest of 4096", () => {
  const w = noise(4096, new Rng(9));
  assert.deepEqual(
    Array.from(w.slice(0, 4)),
    [-0.06383863091468811, -0.691161572933197, -0.5714080929756165, -0.3503275513648987],
  );
  assert.equal(sha256(w), '6c225340aea009d959a29028c381225a47b67e7e31094e568c019c57dcdd13b9');
  assert.equal(sha256(pinkNoise(4096, new Rng(9))), 'd804cbf47665af814b5ee686253a7da8ef33e3c6c6a92ee5dbfa733835f8c858');
});

test('Init (weight initialisation): normal and uniform weights of a module as drawn before the move', async () => {
  const tf = await import('@tensorflow/tfjs');
  const { Init } = await import('../src/model/init.js');
  await tf.setBackend('cpu');
  const init = new Init(3, 'head');
  const n = init.normal([5], 0.1);
  const u = init.uniform([3], 0.5);
  assert.deepEqual(
    Array.from(n.dataSync()),
    [-0.001507348963059485, -0.03336417302489281, -0.023328065872192383, -0.050120677798986435, -0.055812716484069824],
  );
  assert.deepEqual(Array.from(u.dataSync()), [-0.19011136889457703, -0.2776127755641937, -0.3054996430873871]);
  n.dispose();
  u.dispose();
});

test('lcg32 (benchmark inputs) follows s <- (1664525 s + 1013904223) mod 2^32, checked in BigInt', () => {
  const next = lcg32(12345);
  let s = 12345n;
  for (let i = 0; i < 1000; i++) {
    s = (1664525n * s + 1013904223n) % 4294967296n;
    assert.equal(next(), Number(s), `step ${i}`);
  }
});
