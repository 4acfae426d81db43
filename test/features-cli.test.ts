import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { writeWav, readWav } from '../src/audio/wav.js';
import { logMel } from '../src/features/logmel.js';

const { PNG } = pngjs;
const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'exp-features-'));

function exp(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// 10 s: a 500 Hz tone (low in the mel range) over faint noise.
const wav = join(dir, 'tone.wav');
{
  const x = new Float32Array(160000);
  let s = 9;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = 0.5 * Math.sin((2 * Math.PI * 500 * i) / 16000) + 0.002 * (s / 2 ** 31 - 1);
  }
  writeWav(wav, x, 16000);
}

test('exp features --json prints the interface shape with data[m][t] equal to logMel', () => {
  const r = exp('features', wav, '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { sampleRate: number; logmel: { shape: [number, number]; data: number[][] } };
  assert.equal(doc.sampleRate, 16000);
  assert.deepEqual(doc.logmel.shape, [128, 313]);
  assert.equal(doc.logmel.data.length, 128);
  const ref = logMel(readWav(wav, 16000));
  for (const [m, t] of [
    [0, 0],
    [30, 100],
    [127, 312],
    [64, 5],
  ] as const) {
    assert.equal(doc.logmel.data[m]![t], ref.data[m * 313 + t]);
  }
});

test('exp features prints a summary; --set changes the front end', () => {
  const r = exp('features', wav);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /10\.00 s at 16000 Hz/);
  assert.match(r.stdout, /128 mel bins x 313 frames/);
  const s = exp('features', wav, '--set', 'features.logmel.nMels=64', '--set', 'features.logmel.hop=256');
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /64 mel bins x 626 frames/);
});

test('exp features --png draws the tone as a bright line in the lower part of both the log-Mel and the TAgram panels', () => {
  const out = join(dir, 'tone.png');
  const r = exp('features', wav, '--png', out);
  assert.equal(r.code, 0, r.stderr);
  const img = PNG.sync.read(readFileSync(out));
  assert.ok(
    img.width >= 313 * 2 && img.height >= 2 * 128 * 2,
    `image ${img.width} x ${img.height}: expected two 256-pixel panels`,
  );
  // Two stacked panels (log-Mel, then TAgram), each the same height. Brightest row along a column in
  // the middle of the clip, searched within each panel.
  const x = Math.floor(img.width / 2);
  const panel = Math.floor(img.height / 2);
  for (const top of [0, panel]) {
    let best = 0,
      bestY = -1;
    for (let y = top; y < top + panel; y++) {
      const o = 4 * (y * img.width + x);
      const luma = 0.299 * img.data[o]! + 0.587 * img.data[o + 1]! + 0.114 * img.data[o + 2]!;
      if (luma > best) {
        best = luma;
        bestY = y - top;
      }
    }
    // 500 Hz is at 607 of 2840 HTK mels: about 21 % up from the bottom of each 256-pixel map.
    assert.ok(bestY > panel * 0.6, `panel at ${top}: brightest row ${bestY} of ${panel}`);
  }
});

test('user mistakes exit 1 with one line naming the problem', () => {
  const missing = exp('features', join(dir, 'nope.wav'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.wav: no such file/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  const rate = exp('features', wav, '--set', 'data.sampleRate=22050');
  assert.equal(rate.code, 1);
  assert.match(rate.stderr, /16000 Hz; expected 22050 Hz/);
  const bad = exp('features', wav, '--set', 'features.logmel.nFft=1000');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /features\.logmel\.nFft = 1000/);
});
