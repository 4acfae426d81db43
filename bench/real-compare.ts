/**
 * Compares normal clips of the synthetic set with real recordings on four summary statistics
 * (docs/synthetic-data.md): level (RMS, dBFS), noise floor (10th percentile of 64 ms frame
 * levels, dBFS), spectral slope (least-squares dB per octave of the mean power spectrum,
 * 100 Hz-7 kHz) and stationarity (sd over frames of the frame level, dB). Development aid, not
 * a test: the real clips are not shipped.
 *   node --import tsx bench/real-compare.ts DIR_OF_REAL_WAVS [--synth-version 2] [--seconds 10]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readWav } from '../src/audio/wav.js';
import { renderClip, machineIds } from '../src/data/synth/generate.js';
import { MACHINE_TYPES } from '../src/data/synth/machines/index.js';
import { RealFft } from '../src/features/fft.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'synth-version': { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    clips: { type: 'string', default: '8' },
  },
});
const sr = 16000,
  N = 1024;
const fft = new RealFft(N);

function stats(x: Float32Array): number[] {
  const frames: number[] = [];
  const spec = new Float64Array(N / 2 + 1);
  const win = Float64Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N));
  let count = 0,
    total = 0;
  for (let s = 0; s + N <= x.length; s += N) {
    let e = 0;
    const buf = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const v = x[s + i] as number;
      e += v * v;
      buf[i] = v * (win[i] as number);
    }
    frames.push(10 * Math.log10(e / N + 1e-12));
    const p = new Float64Array(N / 2 + 1);
    fft.power(buf, p);
    for (let k = 0; k < spec.length; k++) spec[k] += p[k] as number;
    count++;
  }
  for (const v of x) total += v * v;
  const sorted = [...frames].sort((a, b) => a - b);
  const floor = sorted[Math.floor(0.1 * sorted.length)] as number;
  const mean = frames.reduce((a, b) => a + b, 0) / frames.length;
  const sd = Math.sqrt(frames.reduce((a, b) => a + (b - mean) ** 2, 0) / frames.length);
  // Slope: fit dB against log2(f) over bins 100 Hz-7 kHz.
  let sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0,
    m = 0;
  for (let k = 1; k < spec.length; k++) {
    const f = (k * sr) / N;
    if (f < 100 || f > 7000) continue;
    const xv = Math.log2(f),
      yv = 10 * Math.log10((spec[k] as number) / count + 1e-20);
    sx += xv;
    sy += yv;
    sxx += xv * xv;
    sxy += xv * yv;
    m++;
  }
  const slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  return [10 * Math.log10(total / x.length + 1e-12), floor, slope, sd];
}

function summary(name: string, rows: number[][]): string {
  const cols = [0, 1, 2, 3].map((j) => {
    const v = rows.map((r) => r[j] as number).sort((a, b) => a - b);
    const med = v[Math.floor(v.length / 2)] as number;
    return `${med.toFixed(1)} [${(v[0] as number).toFixed(1)}, ${(v[v.length - 1] as number).toFixed(1)}]`;
  });
  return `| ${name} | ${rows.length} | ${cols.join(' | ')} |`;
}

const out = [
  '| clips | n | level dBFS | noise floor dBFS | slope dB/oct | level sd over frames dB |',
  '|---|---|---|---|---|---|',
];
const dir = positionals[0];
if (dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.wav'))
    .sort();
  out.push(
    summary(
      `real (${dir.split('/').pop()})`,
      files.map((f) => stats(readWav(join(dir, f), sr))),
    ),
  );
}
const version = Number(values['synth-version']);
const seconds = Number(values.seconds);
for (const type of MACHINE_TYPES) {
  const rows: number[][] = [];
  for (const machineId of machineIds(3))
    for (let index = 0; index < Number(values.clips); index++) {
      rows.push(
        stats(
          renderClip({ seed: 0, type, machineId, split: 'train', label: 0, index, seconds, sampleRate: sr }, version)
            .samples,
        ),
      );
    }
  out.push(summary(`synthetic v${version} ${type}`, rows));
}
process.stdout.write(`${out.join('\n')}\n(median [min, max] over clips)\n`);
