import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { logMel, type LogMelOptions } from '../src/features/logmel.js';

/**
 * Compares logMel with test/fixtures/logmel-reference.json, written by tools/logmel_reference.py:
 * torchaudio's MelSpectrogram in float64 + 10·log10(max(x, 1e-10)), cross-checked there against
 * a plain numpy implementation. Tolerance 1e-3 dB on bins within 80 dB of the clip's maximum
 * (below that the references' and our rounding of near-empty bins is not meaningful).
 */

interface Fixture {
  sampleRate: number;
  signals: Record<string, { length: number; float32: string }>;
  cases: {
    name: string;
    signal: string;
    options: Omit<LogMelOptions, 'sampleRate'>;
    shape: [number, number];
    float32: string;
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/logmel-reference.json', import.meta.url), 'utf8'),
) as Fixture;

function decode(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(4 * i);
  return out;
}

const TOLERANCE_DB = 1e-3;
const DYNAMIC_RANGE_DB = 80;

for (const c of fixture.cases) {
  test(`log-Mel matches the torchaudio reference: ${c.name}`, () => {
    const signal = decode(fixture.signals[c.signal]!.float32);
    const ref = decode(c.float32);
    const ours = logMel(signal, { ...c.options, sampleRate: fixture.sampleRate });
    assert.deepEqual(ours.shape, c.shape);
    const max = ref.reduce((a, b) => Math.max(a, b), -Infinity);
    let worst = 0;
    let compared = 0;
    for (let i = 0; i < ref.length; i++) {
      if (ref[i]! <= max - DYNAMIC_RANGE_DB) continue;
      compared++;
      worst = Math.max(worst, Math.abs(ours.data[i]! - ref[i]!));
    }
    // Most bins must take part, or the comparison says little.
    assert.ok(compared > 0.5 * ref.length, `only ${compared} of ${ref.length} bins above the floor`);
    assert.ok(worst < TOLERANCE_DB, `max |ours - reference| = ${worst} dB over ${compared} bins`);
  });
}
