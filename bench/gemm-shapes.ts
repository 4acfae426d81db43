/**
 * One thread's CPU time per product for the shapes of a training step (BatchMatMul as the model
 * calls it: tf.matMul with transpose flags), for before / after pairs of the GEMM kernels: run it
 * alternately on two checkouts and compare the medians. CPU time (not the clock) so that it stays
 * meaningful on a loaded machine.
 *   node --import tsx bench/gemm-shapes.ts [--threads 1] [--ms 300] [--json] [shape ...]
 * A shape is M,K,N,op with op nn, tn or nt (a [M, K] or its transpose, b [K, N] or its transpose);
 * without shapes, the slow ones of the quick ablation's step (2 s clips, batch 16).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '1' },
    ms: { type: 'string', default: '300' },
    json: { type: 'boolean', default: false },
  },
});
await initBackend('wasm', { threads: Number(values.threads) });

const DEFAULT = [
  '32768,64,128,nn',
  '128,2048,512,tn',
  '2048,512,128,nt',
  '1024,1008,128,tn',
  '1008,128,128,nn',
  '128,512,512,tn',
  '512,512,128,tn',
  '384,1008,128,tn',
  '128,8192,512,tn',
  '8192,512,128,nt',
  '8192,128,512,nn',
  '512,313,313,nn',
  '512,313,313,nt',
];

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const rows: Array<{ shape: string; ms: number; gflops: number }> = [];
for (const spec of positionals.length ? positionals : DEFAULT) {
  const [m, k, n] = spec.split(',').slice(0, 3).map(Number) as [number, number, number];
  const op = spec.split(',')[3] ?? 'nn';
  const ta = op === 'tn';
  const tb = op === 'nt';
  const a = tf.randomUniform(ta ? [k, m] : [m, k], -1, 1);
  const b = tf.randomUniform(tb ? [n, k] : [k, n], -1, 1);
  const once = (): void => tf.matMul(a, b, ta, tb).dispose();
  once();
  once();
  let reps = 0;
  const t0 = cpuMs();
  let t = t0;
  while (t - t0 < Number(values.ms) || reps < 3) {
    once();
    reps++;
    t = cpuMs();
  }
  const ms = (t - t0) / reps;
  rows.push({ shape: spec, ms: +ms.toFixed(4), gflops: +((2 * m * k * n) / ms / 1e6).toFixed(1) });
  tf.dispose([a, b]);
}
if (values.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
else
  for (const r of rows)
    process.stdout.write(
      `${r.shape.padEnd(20)} ${r.ms.toFixed(3).padStart(9)} ms ${String(r.gflops).padStart(6)} GFLOP/s\n`,
    );
