import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import wavefile from 'wavefile';
import { readWav, writeWav, fitLength } from '../src/audio/wav.js';
import { UserError } from '../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'exp-wav-'));
const file = (name: string): string => join(dir, name);

function userErrorWith(...parts: string[]): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    for (const p of parts)
      assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} should mention ${JSON.stringify(p)}`);
    return true;
  };
}

/** An independent encoder: wavefile's own writer. */
function wavefileBytes(channels: number, sr: number, bitDepth: string, samples: number[] | number[][]): Uint8Array {
  const w = new wavefile.WaveFile();
  w.fromScratch(channels, sr, bitDepth, samples);
  return w.toBuffer();
}

test('16-bit PCM round trip stays within one quantisation step', () => {
  const x = Float32Array.from({ length: 1000 }, (_, i) => 0.9 * Math.sin(i / 7) * Math.cos(i / 31));
  writeWav(file('a.wav'), x, 16000);
  const y = readWav(file('a.wav'), 16000);
  assert.equal(y.length, x.length);
  for (let i = 0; i < x.length; i++)
    assert.ok(Math.abs((y[i] as number) - (x[i] as number)) <= 1.5 / 32767, `sample ${i}`);
});

test('our 16-bit writer produces what wavefile decodes to the same integers', () => {
  const x = Float32Array.from([0, 0.5, -0.5, 1, -1, 2, -2, 1e-5]);
  writeWav(file('ints.wav'), x, 16000);
  const w = new wavefile.WaveFile(readFileSync(file('ints.wav')));
  const ints = Array.from(w.getSamples(false, Int16Array) as unknown as ArrayLike<number>);
  // 16-bit PCM = round(clip(x, -1, 1) * 32767), rounding half up (JS Math.round).
  assert.deepEqual(ints, [0, 16384, -16383, 32767, -32767, 32767, -32767, 0]);
});

test('reads 16-bit PCM written by wavefile, scaled to [-1, 1]', () => {
  writeFileSync(file('pcm.wav'), wavefileBytes(1, 16000, '16', [0, 16384, -32768, 32767]));
  assert.deepEqual(Array.from(readWav(file('pcm.wav'), 16000)), [0, 0.5, -1, 32767 / 32768]);
});

test('reads 32-bit float WAV exactly', () => {
  const vals = [0, 0.25, -0.75, 0.123456];
  writeFileSync(file('f32.wav'), wavefileBytes(1, 16000, '32f', vals));
  const y = readWav(file('f32.wav'), 16000);
  assert.deepEqual(
    Array.from(y),
    vals.map((v) => Math.fround(v)),
  );
});

test('a different sample rate names the file and both rates', () => {
  writeWav(file('sr.wav'), new Float32Array(10), 44100);
  assert.throws(() => readWav(file('sr.wav'), 16000), userErrorWith(file('sr.wav'), '44100', '16000'));
});

test('a stereo clip is refused', () => {
  writeFileSync(
    file('stereo.wav'),
    wavefileBytes(2, 16000, '16', [
      [0, 1, 2],
      [3, 4, 5],
    ]),
  );
  assert.throws(() => readWav(file('stereo.wav'), 16000), userErrorWith(file('stereo.wav'), '2 channels', 'mono'));
});

test('24-bit PCM is refused with what was expected', () => {
  writeFileSync(file('24.wav'), wavefileBytes(1, 16000, '24', [0, 100, -100]));
  assert.throws(
    () => readWav(file('24.wav'), 16000),
    userErrorWith(file('24.wav'), '24-bit', '16-bit PCM or 32-bit float'),
  );
});

test('a truncated file is refused', () => {
  writeWav(file('full.wav'), new Float32Array(4000), 16000);
  const bytes = readFileSync(file('full.wav'));
  writeFileSync(file('cut.wav'), bytes.subarray(0, 3000));
  assert.throws(() => readWav(file('cut.wav'), 16000), userErrorWith(file('cut.wav'), 'truncated'));
  writeFileSync(file('header.wav'), bytes.subarray(0, 30));
  assert.throws(() => readWav(file('header.wav'), 16000), userErrorWith(file('header.wav')));
});

test('a non-WAV file and a missing file are refused', () => {
  writeFileSync(file('text.wav'), 'this is not audio at all, just some text that is long enough');
  assert.throws(() => readWav(file('text.wav'), 16000), userErrorWith(file('text.wav'), 'not a readable WAV'));
  writeFileSync(file('empty.wav'), '');
  assert.throws(() => readWav(file('empty.wav'), 16000), userErrorWith(file('empty.wav')));
  assert.throws(() => readWav(file('missing.wav'), 16000), userErrorWith(file('missing.wav'), 'no such file'));
});

test('fitLength cuts or zero-pads to exactly n samples', () => {
  fc.assert(
    fc.property(fc.array(fc.float({ noNaN: true, min: -1, max: 1 }), { maxLength: 50 }), fc.nat(60), (values, n) => {
      const x = Float32Array.from(values);
      const y = fitLength(x, n);
      assert.equal(y.length, n);
      for (let i = 0; i < n; i++) assert.equal(y[i], i < x.length ? x[i] : 0);
    }),
  );
});

/**
 * What ffmpeg writes to a pipe (`ffmpeg -i x -f wav -`): it cannot seek back to fill in the sizes,
 * so the RIFF and data sizes stay 0xFFFFFFFF, with a LIST/INFO chunk before the data.
 */
function streamedWav(samples: Int16Array | Float32Array, sr: number): Buffer {
  const float = samples instanceof Float32Array;
  const chunk = (id: string, body: Buffer, size = body.length): Buffer => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'ascii');
    head.writeUInt32LE(size, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
  };
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(float ? 3 : 1, 0);
  fmt.writeUInt16LE(1, 2);
  fmt.writeUInt32LE(sr, 4);
  fmt.writeUInt32LE(sr * (float ? 4 : 2), 8);
  fmt.writeUInt16LE(float ? 4 : 2, 12);
  fmt.writeUInt16LE(float ? 32 : 16, 14);
  const info = Buffer.concat([Buffer.from('INFO', 'ascii'), chunk('ISFT', Buffer.from('Lavf61.7.100\0', 'ascii'))]);
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(0xffffffff, 4);
  head.write('WAVE', 8, 'ascii');
  const dataHead = Buffer.alloc(8);
  dataHead.write('data', 0, 'ascii');
  dataHead.writeUInt32LE(0xffffffff, 4);
  return Buffer.concat([head, chunk('fmt ', fmt), chunk('LIST', info), dataHead, data]);
}

test('a streamed WAV (sizes 0xFFFFFFFF, as ffmpeg writes to a pipe) is read to the end of the file', () => {
  const pcm = Int16Array.from({ length: 3001 }, (_, i) => Math.round(12000 * Math.sin(i / 9)));
  writeFileSync(file('pipe16.wav'), streamedWav(pcm, 16000));
  const got = readWav(file('pipe16.wav'), 16000);
  assert.equal(got.length, pcm.length);
  for (let i = 0; i < pcm.length; i++) assert.equal(got[i], pcm[i]! / 32768);
  const fl = Float32Array.from({ length: 777 }, (_, i) => 0.5 * Math.cos(i / 4));
  writeFileSync(file('pipe32.wav'), streamedWav(fl, 16000));
  assert.deepEqual(readWav(file('pipe32.wav'), 16000), fl);
  // A stream cut inside its last sample: the whole samples before the cut are kept.
  const bytes = streamedWav(pcm, 16000);
  writeFileSync(file('pipe-cut.wav'), bytes.subarray(0, bytes.length - 1));
  assert.equal(readWav(file('pipe-cut.wav'), 16000).length, pcm.length - 1);
  // The placeholder is only that value: a data size that is merely too large is still a truncated file.
  const lying = Buffer.from(bytes);
  lying.writeUInt32LE(0xfffffffe, lying.indexOf('data', 12, 'ascii') + 4);
  writeFileSync(file('lying.wav'), lying);
  assert.throws(() => readWav(file('lying.wav'), 16000), userErrorWith(file('lying.wav'), 'truncated'));
});
