/**
 * One thread's CPU time per call of every non-1x1 convolution kernel of FGASpecNet's quick
 * configuration (batch 16, 2 s clips: the shapes bench/kernels.ts --by-shape lists), each run
 * alone on the wasm backend, so a kernel change can be measured on a loaded machine:
 *   node --import tsx bench/conv.ts [--threads 1] [--reps 7] [--filter Depthwise]
 * Prints the median CPU ms per call over `reps` timed rounds (each round repeats the call until
 * ~40 ms of CPU time have passed) and the multiply-add rate. With one thread, CPU time is the
 * kernel's own work, whatever else the machine runs; compare builds by alternating runs.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { depthwiseBiasAct } from '../src/backend/kernels/depthwise-fwd.js';
import { DEPTHWISE_GRADS } from '../src/backend/kernels/depthwise-grads.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    reps: { type: 'string', default: '7' },
    filter: { type: 'string', default: '' },
    batch: { type: 'string', default: '16' },
  },
});
await initBackend('wasm', { threads: Number(values.threads) });
/** Clips per call (16: the quick configuration; fewer keeps the tensors in cache). */
const batch = Number(values.batch);

const PAD1 = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const rand = (shape: number[]): tf.Tensor => tf.randomUniform(shape, -1, 1, 'float32', 1);

interface Case {
  name: string;
  /** Multiply-adds x 2 per call. */
  flops: number;
  run: () => tf.Tensor;
}

/** [n, h, w, c] input, 3 x 3 depthwise, stride s, padding 1: forward, both gradients, inference. */
function depthwiseCases(n: number, h: number, w: number, c: number, s: number): Case[] {
  const ho = Math.floor((h - 1) / s) + 1;
  const wo = Math.floor((w - 1) / s) + 1;
  const x = rand([n, h, w, c]);
  const f = rand([3, 3, c, 1]);
  const dy = rand([n, ho, wo, c]);
  const bias = rand([c]);
  const alpha = rand([c]);
  const flops = 2 * 9 * n * ho * wo * c;
  const attrs: NamedAttrMap = { strides: [s, s], pad: PAD1, dilations: [1, 1], dataFormat: 'NHWC' } as never;
  const tag = `[${n},${h},${w},${c}] s${s}`;
  const k = (name: string, inputs: Record<string, tf.Tensor>, extra: NamedAttrMap = {}) =>
    tf.engine().runKernel(name, inputs, { ...attrs, ...extra }) as tf.Tensor;
  return [
    { name: `dw fwd ${tag}`, flops, run: () => k('DepthwiseConv2dNative', { x, filter: f }) },
    {
      name: `dw dfilter ${tag}`,
      flops,
      run: () => k('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { filterShape: [3, 3, c, 1] } as never),
    },
    {
      name: `dw dinput ${tag}`,
      flops,
      run: () => k('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { inputShape: [n, h, w, c] } as never),
    },
    ...(s === 1
      ? [
          {
            name: `dw grads ${tag}`,
            flops: 2 * flops,
            run: () => {
              const [dx, dw] = tf.engine().runKernel(DEPTHWISE_GRADS, { x, dy, filter: f }, attrs) as tf.Tensor[];
              dw!.dispose();
              return dx!;
            },
          },
        ]
      : []),
    {
      name: `dw infer ${tag}`,
      flops,
      run: () => depthwiseBiasAct(x as tf.Tensor4D, f as tf.Tensor4D, bias as tf.Tensor1D, s, 1, alpha as tf.Tensor1D),
    },
  ];
}

/** The stem: 3 x 3, stride 2, padding 1, [16, 128, 63, 4] -> 64 channels. */
function stemCases(): Case[] {
  const [n, h, w, ci, co] = [batch, 128, 63, 4, 64];
  const [ho, wo] = [64, 32];
  const x = rand([n, h, w, ci]);
  const f = rand([3, 3, ci, co]);
  const dy = rand([n, ho, wo, co]);
  const bias = rand([co]);
  const alpha = rand([co]);
  const flops = 2 * n * ho * wo * 9 * ci * co;
  const attrs = { strides: [2, 2], pad: PAD1, dilations: [1, 1], dataFormat: 'NHWC' } as never as NamedAttrMap;
  const k = (name: string, inputs: Record<string, tf.Tensor>, extra: NamedAttrMap = {}) =>
    tf.engine().runKernel(name, inputs, { ...attrs, ...extra }) as tf.Tensor;
  return [
    { name: 'conv fwd stem', flops, run: () => k('Conv2D', { x, filter: f }) },
    {
      name: 'conv dfilter stem',
      flops,
      run: () => k('Conv2DBackpropFilter', { x, dy }, { filterShape: [3, 3, ci, co] } as never),
    },
    {
      name: 'conv dinput stem',
      flops,
      run: () => k('Conv2DBackpropInput', { dy, filter: f }, { inputShape: [n, h, w, ci] } as never),
    },
    {
      name: 'conv infer stem',
      flops,
      run: () =>
        k('FusedConv2D', { x, filter: f, bias, preluActivationWeights: alpha }, {
          activation: 'prelu',
          dimRoundingMode: undefined,
        } as never),
    },
  ];
}

const cases: Case[] = [
  ...stemCases(),
  ...depthwiseCases(batch, 64, 32, 64, 1),
  ...depthwiseCases(batch, 64, 32, 128, 2),
  ...depthwiseCases(batch, 32, 16, 256, 1),
  ...depthwiseCases(batch, 32, 16, 512, 2),
  ...depthwiseCases(batch, 16, 8, 512, 1),
  ...depthwiseCases(batch, 16, 8, 512, 2),
  ...depthwiseCases(batch, 8, 4, 512, 1),
].filter((c) => c.name.includes(values.filter ?? ''));

const reps = Number(values.reps);
let totalMs = 0;
for (const c of cases) {
  tf.dispose(c.run()); // warm-up
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    let calls = 0;
    const t0 = cpuMs();
    let t = t0;
    while (t - t0 < 40) {
      tf.dispose(c.run());
      calls++;
      t = cpuMs();
    }
    times.push((t - t0) / calls);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(reps / 2)]!;
  totalMs += ms;
  const rate = (c.flops / ms / 1e6).toFixed(1);
  process.stdout.write(`${ms.toFixed(3).padStart(8)} ms ${rate.padStart(6)} GFLOP/s  ${c.name}\n`);
}
process.stdout.write(`${totalMs.toFixed(2).padStart(8)} ms total\n`);
