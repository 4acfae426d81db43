/**
 * The 1 x 1 conv products of a 10 s batch-4 FGASpecNet training step, each alone on the wasm
 * backend: the forward product, each gradient (ExpAsdPointwiseConvGrad) and both gradients from
 * one pass (ExpAsdPointwiseConvGrads, csrc pw_grads), per call, median over `reps` rounds.
 *   node --import tsx bench/pointwise.ts [--threads 1] [--reps 8] [--cold] [--clock] [--only 10112x128]
 * By default one thread's CPU time: the kernel's own work, whatever else the machine runs (compare
 * builds by alternating runs). --cold reads a 64 MB tensor before every call, so the operands come
 * from memory as in the step (written one or more kernels earlier) rather than from cache. --clock
 * times by the clock instead: at 2 threads, on a quiet machine only. Shapes: pixels x Cin x Cout.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { POINTWISE_CONV, POINTWISE_CONV_GRAD, POINTWISE_CONV_GRADS } from '../src/backend/kernels/pointwise.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    reps: { type: 'string', default: '8' },
    cold: { type: 'boolean', default: false },
    clock: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
  },
});
await initBackend('wasm', { threads: Number(values.threads) });
const reps = Number(values.reps);
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const now = values.clock ? () => performance.now() : cpuMs;
/** [pixels, Cin, Cout] of the step's 1 x 1 convs (batch 4, 10 s clips). */
const SHAPES: [number, number, number][] = [
  [10112, 128, 512],
  [10112, 512, 128],
  [40192, 64, 128],
  [10112, 256, 128],
  [10112, 128, 256],
  [2560, 128, 512],
  [2560, 512, 128],
  [10112, 128, 128],
];
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const flush = tf.randomUniform([16 << 20]);
type Op = 'fwd' | 'dx' | 'dw' | 'both';
const OPS: Op[] = ['fwd', 'dx', 'dw', 'both'];
const totals: Record<Op, number> = { fwd: 0, dx: 0, dw: 0, both: 0 };

function call(op: Op, x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor): tf.Tensor | tf.Tensor[] {
  const e = tf.engine();
  if (op === 'fwd') return e.runKernel(POINTWISE_CONV, { x, w }) as tf.Tensor;
  if (op === 'both') return e.runKernel(POINTWISE_CONV_GRADS, { dy, x, w }) as tf.Tensor[];
  return e.runKernel(POINTWISE_CONV_GRAD, { dy, x, w }, { of: op === 'dx' ? 'x' : 'w' }) as tf.Tensor;
}

process.stdout.write(
  `${values.threads} thread(s), ${values.clock ? 'clock' : 'CPU time'}, ${values.cold ? 'cold' : 'hot'} operands: ms per call (GFLOP/s)\n`,
);
for (const [m, ci, co] of SHAPES) {
  const key = `${m}x${ci}x${co}`;
  if (!key.includes(values.only)) continue;
  const x = tf.randomUniform([m, ci], -1, 1);
  const w = tf.randomUniform([ci, co], -1, 1);
  const dy = tf.randomUniform([m, co], -1, 1);
  const times: Record<Op, number[]> = { fwd: [], dx: [], dw: [], both: [] };
  for (let r = 0; r <= reps; r++) {
    for (const op of OPS) {
      if (values.cold) tf.tidy(() => void flush.add(1));
      const t0 = now();
      const out = call(op, x, w, dy);
      const dt = now() - t0;
      tf.dispose(out);
      if (r > 0) times[op].push(dt);
    }
  }
  const gflop = (2 * m * ci * co) / 1e6;
  const cells = OPS.map((op) => {
    const ms = median(times[op]);
    totals[op] += ms;
    return `${op} ${ms.toFixed(2)} (${(((op === 'both' ? 2 : 1) * gflop) / ms).toFixed(1)})`;
  });
  process.stdout.write(`${key.padEnd(16)} ${cells.join('  ')}\n`);
  tf.dispose([x, w, dy]);
}
process.stdout.write(`sum of the medians: ${OPS.map((op) => `${op} ${totals[op].toFixed(1)}`).join('  ')} ms\n`);
