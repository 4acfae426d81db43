/**
 * Matmul throughput on wasm (GFLOP/s of the heavy layers against the machine's wasm matmul
 * peak). For a 1024 x 1024 x 1024 product and for the 1 x 1-conv shapes of a FGASpecNet
 * training step at batch 4, times tfjs-backend-wasm's own XNNPACK product and our SIMD GEMMs
 * (csrc/exp_kernels.c: gemm_nn for a b, gemm_tn for a^T b). Operands are fresh every repetition,
 * as in training, where the weights change every step (XNNPACK repacks its right operand then).
 * Run by `npm run bench`, or alone: node --import tsx bench/matmul.ts [--threads N] [--json]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { relaxedSimdInUse } from '../src/backend/kernels/simd.js';
import { matmulNN, matmulTN } from '../src/backend/kernels/gemm.js';
import { run, type WasmBackend } from '../src/backend/kernels/wasm-util.js';

const { values } = parseArgs({
  options: { threads: { type: 'string', default: '2' }, json: { type: 'boolean', default: false } },
});
const info = await initBackend('wasm', { threads: Number(values.threads) });
const backend = tf.backend() as unknown as WasmBackend;

/** [M, K, N]: C = A B (forward) and the weight gradient A^T dY with A [M, K], dY [M, N]. */
const shapes: Array<[number, number, number]> = [
  [1024, 1024, 1024],
  [40192, 64, 128],
  [10112, 128, 512],
  [10112, 512, 128],
  [2560, 512, 128],
  [1252, 1024, 128],
];

function time(fn: () => TensorInfo, reps: number): number {
  fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) backend.disposeData(fn().dataId);
  return (performance.now() - t0) / reps;
}

const rows: Array<Record<string, number | string>> = [];
for (const [m, k, n] of shapes) {
  const a = tf.randomUniform([m, k], -1, 1);
  const dy = tf.randomUniform([m, n], -1, 1);
  const reps = Math.max(3, Math.round(2e10 / (2 * m * k * n)));
  const flops = 2 * m * k * n;
  // Each repetition gets a fresh right operand, as a training step does.
  const fresh = (shape: number[]) => tf.randomUniform(shape, -1, 1);
  const xnn = time(() => {
    const b = fresh([k, n]);
    const a3 = tf.reshape(a, [1, m, k]);
    const b3 = tf.reshape(b, [1, k, n]);
    const out = run(backend, 'BatchMatMul', { a: a3, b: b3 }, { transposeA: false, transposeB: false });
    tf.dispose([b, a3, b3]);
    return out;
  }, reps);
  const nn = time(() => {
    const b = fresh([k, n]);
    const out = matmulNN(backend, a, b);
    b.dispose();
    return out;
  }, reps);
  const tn = time(() => matmulTN(backend, a, dy), reps);
  rows.push({
    shape: `${m}x${k}x${n}`,
    xnnpackGflops: +(flops / xnn / 1e6).toFixed(1),
    gemmNnGflops: +(flops / nn / 1e6).toFixed(1),
    gemmTnGflops: +(flops / tn / 1e6).toFixed(1),
  });
  tf.dispose([a, dy]);
}

const result = { threads: info.threads, simdKernels: relaxedSimdInUse() ? 'relaxed' : 'baseline', rows };
if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  process.stdout.write(
    `wasm matmul GFLOP/s, ${info.threads} threads, ${result.simdKernels} SIMD kernels (fresh right operand each time)\n`,
  );
  process.stdout.write(
    `${'M x K x N'.padEnd(18)} ${'XNNPACK a b'.padStart(12)} ${'gemm_nn a b'.padStart(12)} ${'gemm_tn a^T dy'.padStart(15)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${String(r['shape']).padEnd(18)} ${String(r['xnnpackGflops']).padStart(12)} ${String(r['gemmNnGflops']).padStart(12)} ${String(r['gemmTnGflops']).padStart(15)}\n`,
    );
  }
}
