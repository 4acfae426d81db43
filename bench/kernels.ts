/**
 * Where a training (or inference) step of an experiment spends its time on wasm, kernel by
 * kernel: wraps every registered wasm kernel with a timer (nested calls count toward the outer
 * kernel), runs `exp bench`'s steps, and prints milliseconds and calls per step. This is how the
 * kernels in src/backend/kernels were chosen (docs/backend.md).
 *   node --import tsx bench/kernels.ts [--batch 4] [--steps 3] [--infer] [--by-shape] [--top 30] [--threads 2] [--cpu] [experiment.yaml]
 * --cpu times each kernel by the process's CPU time instead of the clock: with --threads 1 that
 * is the kernel's own work, and stays meaningful on a loaded machine (where the clock mostly
 * counts waiting for a core).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { loadExperiment, defaultCatalog } from '../src/parts/index.js';
import { runBench } from '../src/backend/bench.js';
import { initBackend } from '../src/backend/select.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    batch: { type: 'string', default: '4' },
    steps: { type: 'string', default: '3' },
    infer: { type: 'boolean', default: false },
    'by-shape': { type: 'boolean', default: false },
    top: { type: 'string', default: '30' },
    threads: { type: 'string', default: '2' },
    cpu: { type: 'boolean', default: false },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const phase = values.infer ? 'infer' : 'train';

const threads = Number(values.threads);
await initBackend('wasm', { threads });
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const now = values.cpu ? cpuMs : () => performance.now();
const stats = new Map<string, { ms: number; calls: number }>();
let depth = 0;
let timing = false;
type Args = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap };
for (const k of tf.getKernelsForBackend('wasm')) {
  const inner = k.kernelFunc as unknown as (a: Args) => unknown;
  tf.unregisterKernel(k.kernelName, 'wasm');
  const kernelFunc = (args: Args): unknown => {
    if (depth > 0 || !timing) {
      depth++;
      try {
        return inner(args);
      } finally {
        depth--;
      }
    }
    depth++;
    const t0 = now();
    try {
      return inner(args);
    } finally {
      depth--;
      const shapes = Object.values(args.inputs)
        .map((t) => `[${t?.shape ?? ''}]`)
        .join('');
      const key = values['by-shape']
        ? `${k.kernelName} ${shapes} ${JSON.stringify(args.attrs ?? {}).slice(0, 80)}`
        : k.kernelName;
      const s = stats.get(key) ?? { ms: 0, calls: 0 };
      s.ms += now() - t0;
      s.calls++;
      stats.set(key, s);
    }
  };
  tf.registerKernel({ ...k, kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'] });
}

const config = loadExperiment(positionals[0] ?? 'experiments/fgaspecnet.yaml', []);
const result = await runBench(config, {
  parts: defaultCatalog(),
  backend: 'wasm',
  threads,
  batch,
  steps,
  onStep: (p, i) => {
    if (i === 0) timing = p === phase;
  },
});
const perStep = phase === 'train' ? result.train.msPerStep : result.infer.msPerBatch;
let total = 0;
for (const s of stats.values()) total += s.ms;
process.stdout.write(
  `${phase}, batch ${batch}, ${threads} thread(s): ${perStep.toFixed(0)} ms per step (clock), ${(total / steps).toFixed(0)} ms of it in kernels (${values.cpu ? 'CPU time' : 'clock'}); load average ${os.loadavg()[0]!.toFixed(1)}\n`,
);
process.stdout.write(`${'ms/step'.padStart(8)} ${'calls'.padStart(6)}  kernel\n`);
for (const [key, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top))) {
  process.stdout.write(`${(s.ms / steps).toFixed(1).padStart(8)} ${String(s.calls / steps).padStart(6)}  ${key}\n`);
}
