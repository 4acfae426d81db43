/**
 * Where a training (or inference) step of an experiment spends its time on wasm, kernel by
 * kernel: wraps every registered wasm kernel with a timer (nested calls count toward the outer
 * kernel), runs `exp bench`'s steps, and prints milliseconds and calls per step. This is how the
 * kernels in src/backend/kernels were chosen (docs/backend.md).
 *   node --import tsx bench/kernels.ts [--batch 4] [--steps 3] [--infer] [--by-shape] [--top 30] [--threads 2] [--cpu] [--total] [experiment.yaml]
 * --cpu times each kernel by the process's CPU time instead of the clock: with --threads 1 that
 * is the kernel's own work, and stays meaningful on a loaded machine (where the clock mostly
 * counts waiting for a core). --total wraps no kernel and prints only the process's CPU time per
 * step: the per-kernel timers cost ~20 µs a call (two process.cpuUsage reads), ~5 % of a step, and
 * fewer calls would otherwise read as less work; use it for before / after pairs.
 * The process's CPU time includes V8's background threads (garbage collector, compiler: ~110 ms of
 * a ~600 ms quick-configuration step at one thread over --steps 4, ~28 ms over 30 steps), charged
 * to whichever kernel is running; for a per-kernel profile whose times are the kernels' own, run
 * node with --single-threaded:
 *   node --single-threaded --import tsx bench/kernels.ts --threads 1 --cpu --by-shape ...
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
    total: { type: 'boolean', default: false },
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
const stats = new Map<string, { ms: number; calls: number; flops: number }>();

/** Multiply-add work of a product kernel (2 m k n per product), else 0. */
function flopsOf(name: string, args: Args): number {
  const shapes = Object.values(args.inputs).map((t) => t?.shape ?? []);
  if (name === 'BatchMatMul') {
    const [a, b] = shapes as [number[], number[]];
    const ta = Boolean(args.attrs?.['transposeA']);
    const tb = Boolean(args.attrs?.['transposeB']);
    const m = ta ? a.at(-1)! : a.at(-2)!;
    const k = ta ? a.at(-2)! : a.at(-1)!;
    const n = tb ? b.at(-2)! : b.at(-1)!;
    const batch = Math.max(
      a.slice(0, -2).reduce((x, y) => x * y, 1),
      b.slice(0, -2).reduce((x, y) => x * y, 1),
    );
    return 2 * batch * m * k * n;
  }
  if (name === 'ExpAsdPointwiseConv' || name === 'ExpAsdPointwiseConvGrad' || name === 'ExpAsdPointwiseConvGrads') {
    // One product of x [..., Cin] and w [.., Cin, Cout] (the gradient: one of dy w^T, x^T dy; Grads: both).
    const x = args.inputs['x']!.shape;
    const w = args.inputs['w']!.shape;
    const products = name === 'ExpAsdPointwiseConvGrads' ? 2 : 1;
    return (products * 2 * x.reduce((a, b) => a * b, 1) * w.at(-1)!) as number;
  }
  if (name === 'ExpAsdMatMulBiasAct') {
    const [a, b] = shapes as [number[], number[]];
    return 2 * a.at(-2)! * a.at(-1)! * b.at(-1)!;
  }
  return 0;
}
let depth = 0;
/** The process's CPU time over the timed phase (all threads: with one thread, the whole step's work). */
let phaseCpu = 0;
let timing = false;
type Args = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: NamedAttrMap };
for (const k of values.total ? [] : tf.getKernelsForBackend('wasm')) {
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
      const s = stats.get(key) ?? { ms: 0, calls: 0, flops: 0 };
      s.ms += now() - t0;
      s.calls++;
      s.flops += flopsOf(k.kernelName, args);
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
    if (i !== 0) return;
    const on = p === phase;
    if (on && !timing) phaseCpu -= cpuMs();
    if (!on && timing) phaseCpu += cpuMs();
    timing = on;
  },
});
if (timing) phaseCpu += cpuMs();
const perStep = phase === 'train' ? result.train.msPerStep : result.infer.msPerBatch;
let total = 0;
let flops = 0;
let flopMs = 0;
for (const s of stats.values()) {
  total += s.ms;
  flops += s.flops;
  if (s.flops > 0) flopMs += s.ms;
}
const gflops = (f: number, ms: number): string => (f > 0 && ms > 0 ? (f / ms / 1e6).toFixed(1) : '');
process.stdout.write(
  `${phase}, batch ${batch}, ${threads} thread(s): ${perStep.toFixed(0)} ms per step (clock), ${(phaseCpu / steps).toFixed(0)} ms CPU time per step (process), ${(total / steps).toFixed(0)} ms of it in kernels (${values.cpu ? 'CPU time' : 'clock'}); load average ${os.loadavg()[0]!.toFixed(1)}\n`,
);
process.stdout.write(
  `products (BatchMatMul, ExpAsdMatMulBiasAct, ExpAsdPointwiseConv + grads): ${(flops / steps / 1e9).toFixed(2)} GFLOP per step in ${(flopMs / steps).toFixed(0)} ms = ${gflops(flops, flopMs)} GFLOP/s\n`,
);
process.stdout.write(`${'ms/step'.padStart(8)} ${'calls'.padStart(6)} ${'GFLOP/s'.padStart(7)}  kernel\n`);
for (const [key, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top))) {
  process.stdout.write(
    `${(s.ms / steps).toFixed(1).padStart(8)} ${String(s.calls / steps).padStart(6)} ${gflops(s.flops, s.ms).padStart(7)}  ${key}\n`,
  );
}
