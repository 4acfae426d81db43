import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { initBackend } from '../src/backend/select.js';
import { filledTensor } from '../src/backend/kernels/filled.js';
import { makeInputs, type ClipArrays } from '../src/train/batch.js';

// makeInputs writes a batch straight into the wasm heap (filledTensor); other backends get a fresh
// array. Both must hold the clips' values, and a mixed batch lam * x_i + (1 - lam) * x_partner
// rounded once to float32, as the reference training loop computes it on the host.

function clipSet(n: number, samples: number, nMels: number, frames: number, seed: number): ClipArrays {
  const val = (c: number, i: number, k: number) => Math.sin((i + 1) * 0.37 * (c + 1) + seed + k) * (c + 1);
  const waves = Array.from({ length: n }, (_, c) => Float32Array.from({ length: samples }, (_, i) => val(c, i, 0)));
  const mels = Array.from({ length: n }, (_, c) =>
    Float32Array.from({ length: nMels * frames }, (_, i) => val(c, i, 1)),
  );
  return { samples, nMels, frames, wave: (i) => waves[i]!, logmel: (i) => mels[i]! };
}

/** The batch computed independently: row r is clip rows[r], or its blend with partners[r]. */
function expected(of: (i: number) => Float32Array, rows: number[], mix?: { partners: number[]; lam: number }) {
  return rows.flatMap((row, r) => {
    const x = of(row);
    if (!mix) return [...x];
    const y = of(mix.partners[r]!);
    return [...x].map((v, i) => Math.fround(mix.lam * v + (1 - mix.lam) * y[i]!));
  });
}

const batchArb = fc.record({
  rows: fc.array(fc.nat(5), { minLength: 1, maxLength: 4 }),
  partnerShift: fc.integer({ min: 1, max: 5 }),
  lam: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  seed: fc.integer({ min: 0, max: 1000 }),
});

for (const backend of ['wasm', 'cpu'] as const) {
  test(`makeInputs on ${backend}: the rows' clips, or their blends rounded once to float32`, async () => {
    await initBackend(backend, { threads: 1 });
    await fc.assert(
      fc.asyncProperty(batchArb, async ({ rows, partnerShift, lam, seed }) => {
        const clips = clipSet(6, 37, 3, 5, seed);
        const mix = lam === undefined ? undefined : { partners: rows.map((r) => (r + partnerShift) % 6), lam };
        // Garbage in the heap first, so that a value not written shows.
        tf.dispose(tf.fill([rows.length * 40], 123.5));
        const inputs = makeInputs(clips, rows, mix);
        assert.deepEqual(inputs.wave.shape, [rows.length, 37]);
        assert.deepEqual(inputs.logmel.shape, [rows.length, 3, 5]);
        assert.deepEqual([...(await inputs.wave.data())], expected(clips.wave, rows, mix));
        assert.deepEqual([...(await inputs.logmel.data())], expected(clips.logmel, rows, mix));
        tf.dispose([inputs.wave, inputs.logmel]);
      }),
      { numRuns: 40, seed: 42 },
    );
  });

  test(`filledTensor on ${backend}: starts from zeros and is disposed like any tensor`, async () => {
    await initBackend(backend, { threads: 1 });
    tf.dispose(tf.fill([64], 7));
    const before = tf.memory().numTensors;
    const t = filledTensor([4, 16], (out) => {
      out[5] = 2;
    });
    assert.equal(tf.memory().numTensors, before + 1);
    const v = await t.data();
    assert.equal(v[5], 2);
    assert.equal([...v].filter((x, i) => i !== 5 && x !== 0).length, 0, 'every value not written is zero');
    t.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
}
