/**
 * CPU time of the training-mode BatchNorm (+ PReLU) kernels (src/backend/kernels/batchnorm.ts)
 * on the map shapes of the quick configuration's MobileFaceNet at batch 16 (2 s clips), one call
 * per shape and repetition, the process's CPU time (meaningful on a loaded machine at one thread).
 * Prints the median over repetitions, per shape and summed over a step's calls.
 *   node --import tsx bench/batchnorm.ts [--threads 1] [--reps 15] [--json]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { BN_PRELU_TRAIN, BN_PRELU_TRAIN_GRAD, BN_TRAIN, BN_TRAIN_GRAD } from '../src/backend/kernels/batchnorm.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    reps: { type: 'string', default: '15' },
    json: { type: 'boolean', default: false },
  },
});
await initBackend('wasm', { threads: Number(values.threads) });
const reps = Number(values.reps);

/** [shape, calls per step, PReLU] of the quick configuration's training step (bench/kernels.ts --by-shape). */
const SHAPES: Array<[number[], number, boolean]> = [
  [[16, 64, 32, 64], 2, true],
  [[16, 64, 32, 128], 1, true],
  [[16, 32, 16, 128], 1, true],
  [[16, 32, 16, 256], 2, true],
  [[16, 32, 16, 512], 1, true],
  [[16, 16, 8, 512], 4, true],
  [[16, 8, 4, 512], 3, true],
  [[16, 32, 16, 128], 1, false],
  [[16, 16, 8, 128], 2, false],
  [[16, 8, 4, 128], 2, false],
  [[16, 128, 63, 1], 2, false],
];

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeOf(fn: () => tf.Tensor[]): number {
  tf.dispose(fn());
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = cpuMs();
    const out = fn();
    ms.push(cpuMs() - t0);
    tf.dispose(out);
  }
  return median(ms);
}

const rows: Array<{ shape: string; prelu: boolean; calls: number; fwd: number; grad: number }> = [];
for (const [shape, calls, prelu] of SHAPES) {
  const c = shape[3]!;
  const x = tf.randomNormal(shape, 0.3, 1.5);
  const dy = tf.randomNormal(shape);
  const gamma = tf.randomUniform([c], 0.5, 1.5);
  const beta = tf.randomUniform([c], -0.5, 0.5);
  const alpha = tf.fill([c], 0.25);
  const fwdInputs = prelu ? { x, gamma, beta, alpha } : { x, gamma, beta };
  const [, mean, , invstd] = tf
    .engine()
    .runKernel(prelu ? BN_PRELU_TRAIN : BN_TRAIN, fwdInputs, { eps: 1e-5 }) as tf.Tensor[];
  const fwd = timeOf(
    () => tf.engine().runKernel(prelu ? BN_PRELU_TRAIN : BN_TRAIN, fwdInputs, { eps: 1e-5 }) as tf.Tensor[],
  );
  const gradInputs = prelu
    ? { dy, x, gamma, beta, alpha, mean: mean!, invstd: invstd! }
    : { dy, x, gamma, mean: mean!, invstd: invstd! };
  const grad = timeOf(
    () => tf.engine().runKernel(prelu ? BN_PRELU_TRAIN_GRAD : BN_TRAIN_GRAD, gradInputs) as tf.Tensor[],
  );
  rows.push({ shape: `[${shape.join(',')}]`, prelu, calls, fwd, grad });
  tf.dispose([x, dy, gamma, beta, alpha]);
}
const total = (k: 'fwd' | 'grad', prelu: boolean) =>
  rows.filter((r) => r.prelu === prelu).reduce((s, r) => s + r.calls * r[k], 0);
if (values.json) {
  console.log(JSON.stringify({ rows, totals: { preluFwd: total('fwd', true), preluGrad: total('grad', true) } }));
} else {
  for (const r of rows) {
    console.log(
      `${r.prelu ? 'bn+prelu' : 'bn      '} ${r.shape.padEnd(18)} x${r.calls}  fwd ${r.fwd.toFixed(2)} ms  grad ${r.grad.toFixed(2)} ms`,
    );
  }
  console.log(
    `per step: bn+prelu fwd ${total('fwd', true).toFixed(1)} grad ${total('grad', true).toFixed(1)} ms; bn fwd ${total('fwd', false).toFixed(1)} grad ${total('grad', false).toFixed(1)} ms (median CPU time, ${values.threads} thread(s))`,
  );
}
