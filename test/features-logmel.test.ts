import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { logMel, logMelBatch, frameCount } from '../src/features/logmel.js';
import { hzToMel, melToHz, melFilterbank } from '../src/features/mel.js';
import { UserError } from '../src/util/errors.js';
import { logMel as exported } from '../src/index.js';

function noise(n: number, seed: number): Float32Array {
  // A small LCG: deterministic test input without depending on the code under test.
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

test('10 s at 16 kHz gives the paper shape 128 x 313 (§2.1.2)', () => {
  const r = exported(noise(160000, 1));
  assert.deepEqual(r.shape, [128, 313]);
  assert.equal(r.data.length, 128 * 313);
  assert.ok(r.data.every((v) => Number.isFinite(v) && v >= -100));
  assert.equal(frameCount(160000, 512), 313);
});

test('logMelBatch equals logMel clip by clip', () => {
  const clips = [noise(20000, 2), noise(20000, 3), noise(20000, 4)];
  const batch = logMelBatch(clips, { nMels: 64 });
  const T = frameCount(20000, 512);
  assert.deepEqual(batch.shape, [3, 64, T]);
  clips.forEach((c, i) => {
    const one = logMel(c, { nMels: 64 });
    assert.deepEqual(batch.data.subarray(i * 64 * T, (i + 1) * 64 * T), one.data);
  });
  assert.throws(() => logMelBatch([noise(100, 1), noise(200, 1)]), /clip 1 has 200 samples/);
  assert.deepEqual(logMelBatch([]).shape, [0, 128, 0]);
});

test('silence sits at the -100 dB floor', () => {
  const r = logMel(new Float32Array(4000));
  assert.ok(r.data.every((v) => v === -100));
});

test('clips shorter than half a window still work with reflect padding', () => {
  for (const n of [1, 2, 3, 100, 1023, 1024, 1025]) {
    const r = logMel(noise(n, n), { pad: 'reflect' });
    assert.equal(r.shape[1], frameCount(n, 512));
    assert.ok(r.data.every(Number.isFinite), `length ${n}`);
  }
});

test('bad options are user errors naming the option', () => {
  const x = noise(4000, 5);
  const cases: [object, RegExp][] = [
    [{ nFft: 1000 }, /nFft = 1000: expected a power of two/],
    [{ hop: 0 }, /hop = 0/],
    [{ fMax: 9000 }, /fMax = 9000/],
    [{ fMin: 8000 }, /fMin = 8000/],
    [{ scale: 'bark' }, /scale = "bark"/],
  ];
  for (const [opts, re] of cases) {
    assert.throws(
      () => logMel(x, opts),
      (e: unknown) => e instanceof UserError && re.test(e.message),
      JSON.stringify(opts),
    );
  }
  assert.throws(() => logMel(new Float32Array(0)), UserError);
});

test('mel scales: the HTK formula, slaney continuity at 1 kHz, and round trips', () => {
  assert.ok(Math.abs(hzToMel(700, 'htk') - 2595 * Math.log10(2)) < 1e-9);
  assert.ok(Math.abs(hzToMel(1000, 'slaney') - 15) < 1e-12);
  assert.ok(Math.abs(hzToMel(999.999999, 'slaney') - 15) < 1e-6);
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 24000, noNaN: true }),
      fc.constantFrom('htk' as const, 'slaney' as const),
      (f, scale) => {
        assert.ok(Math.abs(melToHz(hzToMel(f, scale), scale) - f) < 1e-6 * Math.max(1, f));
      },
    ),
  );
});

test('filters are triangles peaking at 1 between their edges; slaney norm scales by 2 / bandwidth', () => {
  const base = { sampleRate: 16000, nFft: 2048, nMels: 128, fMin: 0, fMax: 8000, scale: 'htk' as const };
  const fb = melFilterbank({ ...base, norm: 'none' });
  const fbN = melFilterbank({ ...base, norm: 'slaney' });
  const binHz = 16000 / 2048;
  for (let m = 0; m < 128; m++) {
    const w = fb.weights[m]!;
    assert.ok(w.length > 0, `filter ${m} is empty`);
    const peak = Math.max(...w);
    assert.ok(peak <= 1 && peak > 0.5, `filter ${m} peak ${peak}`);
    // Non-zero exactly strictly between the edges.
    const first = fb.start[m]! * binHz;
    const last = (fb.start[m]! + w.length - 1) * binHz;
    assert.ok(first > fb.edges[m]! && last < fb.edges[m + 2]!);
    assert.ok((fb.start[m]! - 1) * binHz <= fb.edges[m]! && (fb.start[m]! + w.length) * binHz >= fb.edges[m + 2]!);
    const gain = 2 / (fb.edges[m + 2]! - fb.edges[m]!);
    fbN.weights[m]!.forEach((v, j) => assert.ok(Math.abs(v - gain * w[j]!) < 1e-15));
  }
});
