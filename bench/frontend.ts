/**
 * Front-end throughput: log-Mel of a batch of 10 s clips at 16 kHz with the paper's
 * settings (§2.1.2: n_fft 2048, hop 512, 128 mels), on one thread. Run by `npm run bench`, or
 * alone: node --import tsx bench/frontend.ts [--batch N] [--repeats N] [--json]
 */
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { logMelBatch, DEFAULT_LOGMEL_OPTIONS } from '../src/features/logmel.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '32' },
    repeats: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const batch = Number(values.batch);
const repeats = Number(values.repeats);
if (!Number.isInteger(batch) || batch <= 0 || !Number.isInteger(repeats) || repeats <= 0) {
  process.stderr.write('bench/frontend.ts: --batch and --repeats take positive whole numbers\n');
  process.exit(1);
}

const sr = DEFAULT_LOGMEL_OPTIONS.sampleRate;
const seconds = 10;

/** Deterministic machine-like clips: a few harmonics over noise, different per clip. */
function clip(seed: number): Float32Array {
  const x = new Float32Array(sr * seconds);
  let s = seed * 2654435761 + 1;
  const f0 = 80 + 20 * seed;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const t = i / sr;
    x[i] = 0.2 * Math.sin(2 * Math.PI * f0 * t) + 0.1 * Math.sin(2 * Math.PI * 3 * f0 * t) + 0.05 * (s / 2 ** 31 - 1);
  }
  return x;
}

const clips = Array.from({ length: batch }, (_, i) => clip(i));
logMelBatch(clips.slice(0, 2)); // warm-up: plan tables and JIT

const times: number[] = [];
let shape: number[] = [];
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  shape = logMelBatch(clips).shape;
  times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const clipsPerSec = batch / median;
const result = {
  bench: 'frontend-logmel',
  batch,
  seconds,
  shape,
  threads: 1,
  cpu: cpus()[0]?.model ?? 'unknown',
  medianSeconds: median,
  clipsPerSec,
  msPerClip: (1000 * median) / batch,
  realTimeFactor: clipsPerSec * seconds,
};
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(
    `front end: log-Mel ${shape.slice(1).join('x')} of ${batch} x ${seconds} s clips, 1 thread: ` +
      `${clipsPerSec.toFixed(1)} clips/s (${result.msPerClip.toFixed(2)} ms/clip, ${result.realTimeFactor.toFixed(0)}x real time; median of ${repeats})\n`,
  );
}
