/**
 * How well the products of a 10 s batch-4 FGASpecNet training step split over threads, alone:
 * the clock per product (tf.matMul with the step's transpose flags, the same inputs again and
 * again, so they come from cache) and the clock of an empty `parallel` call. Run it at 1 and at 2
 * threads on a quiet machine and compare with the same shapes inside the step
 * (`bench/kernels.ts --batch 4 --threads 2 --by-shape`); docs/backend.md, Threads.
 *   node --import tsx bench/threads.ts [--threads 2] [--reps 10] [--only TEXT]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { parallel } from '../src/backend/kernels/parallel.js';
import type { WasmBackend } from '../src/backend/kernels/wasm-util.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    reps: { type: 'string', default: '10' },
    only: { type: 'string', default: '' },
  },
});
const reps = Number(values.reps);
await initBackend('wasm', { threads: Number(values.threads) });
const backend = tf.backend() as unknown as WasmBackend;
/** [M, K, N, transposeA, transposeB]: C [M, N] = op(a) op(b) over K. */
const SHAPES: [number, number, number, boolean, boolean][] = [
  [10112, 512, 128, false, true],
  [128, 10112, 512, true, false],
  [10112, 128, 512, false, false],
  [40192, 128, 64, false, true],
  [512, 2560, 128, true, false],
  [128, 2560, 512, true, false],
  [40192, 64, 128, false, false],
  [64, 40192, 128, true, false],
  [2560, 512, 128, false, false],
  [2560, 128, 512, false, false],
  [1252, 384, 128, false, false],
  [384, 1252, 128, true, false],
  [640, 512, 128, false, false],
];
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;

// An empty call: sum_parts with no partials over 4 chunks of 16 K elements (nothing is read or written).
const empty: number[] = [];
for (let r = 0; r < 2000; r++) {
  const t0 = performance.now();
  parallel(backend, 'sum_parts', 65536, [0, 0, 0, 65536], 4, 16384);
  empty.push(performance.now() - t0);
}
process.stdout.write(`empty parallel call: median ${(1000 * median(empty.slice(200))).toFixed(1)} µs\n`);

let total = 0;
for (const [m, k, n, ta, tb] of SHAPES) {
  const key = `${ta ? 'tn' : tb ? 'nt' : 'nn'} M ${m} K ${k} N ${n}`;
  if (!key.includes(values.only)) continue;
  const a = tf.randomNormal(ta ? [k, m] : [m, k]);
  const b = tf.randomNormal(tb ? [n, k] : [k, n]);
  const times: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b, ta, tb);
    const dt = performance.now() - t0;
    c.dispose();
    if (r >= 2) times.push(dt);
  }
  const ms = median(times);
  total += ms;
  process.stdout.write(
    `${key.padEnd(28)} ${ms.toFixed(2).padStart(7)} ms ${((2 * m * k * n) / ms / 1e6).toFixed(1).padStart(6)} GFLOP/s\n`,
  );
  tf.dispose([a, b]);
}
process.stdout.write(`sum of the medians: ${total.toFixed(1)} ms\n`);
