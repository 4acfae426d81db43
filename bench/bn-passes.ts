/**
 * Each memory pass of the training BatchNorm (+ PReLU) kernels (csrc/exp_kernels.c) alone, one
 * thread, on one map: CPU time (median) and the bytes it must move per ms, so a pass can be told
 * memory-bound (near the streaming rate of the two-operand sums) from instruction-bound. "cold"
 * rows run a kernel's two passes back to back after reading a 96 MB buffer, as in a step where
 * the map comes from memory. The arguments are placeholders (every per-channel vector is one
 * random vector; bn_prelu_dx's interleaved operands are zeros): only the time means anything.
 *   node --import tsx bench/bn-passes.ts [--shape 16,64,32,128] [--reps 15]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { simd, withScratch } from '../src/backend/kernels/simd.js';
import { ptr, type WasmBackend } from '../src/backend/kernels/wasm-util.js';

const { values } = parseArgs({
  options: { shape: { type: 'string', default: '16,64,32,128' }, reps: { type: 'string', default: '15' } },
});
await initBackend('wasm', { threads: 1 });
const b = tf.backend() as unknown as WasmBackend;
const s = simd(b);
const shape = values.shape.split(',').map(Number);
const c = shape[shape.length - 1]!;
const n = shape.reduce((a, v) => a * v, 1);
const rows = n / c;
const reps = Number(values.reps);
const [x, dy, out, vec] = [shape, shape, shape, [c]].map((sh) => tf.randomNormal(sh)) as tf.Tensor[];
const [px, py, po, pv] = [x, dy, out, vec].map((t) => ptr(b, t!));
// Row groups as batchnorm.ts makes them (64-row blocks, ~64 K values a group).
const grows = Math.max(1, Math.round(65536 / (c * 64))) * 64;
const groups = Math.ceil(rows / grows);
const junkValues = 24 * 1024 * 1024;
const junk = tf.zeros([junkValues]);

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;

type Pass = (sums: number) => void;
const sumsAt = (at: number, i: number) => at + i * 8 * c * groups;
const passes: Record<string, [Pass, number]> = {
  'statistics (x)': [
    (at) => s.col_sums_rg(px, 0, rows, c, pv, at, sumsAt(at, 1), 0, sumsAt(at, 4), grows, 0, groups),
    1,
  ],
  'BN grad sums (x, dy)': [
    (at) => s.col_sums_rg(px, py, rows, c, pv, at, sumsAt(at, 1), 1, sumsAt(at, 4), grows, 0, groups),
    2,
  ],
  'BN+PReLU grad sums': [
    (at) =>
      s.bn_prelu_sums_rg(
        px,
        py,
        rows,
        c,
        pv,
        pv,
        pv,
        pv,
        at,
        sumsAt(at, 1),
        sumsAt(at, 2),
        sumsAt(at, 4),
        grows,
        0,
        groups,
      ),
    2,
  ],
  'BN apply (x -> y)': [() => s.affine_rows(px, 0, po, c, pv, 0, pv, 0, rows), 2],
  'BN+PReLU apply': [() => s.bn_prelu_fwd(px, po, c, pv, pv, pv, 0, rows), 2],
  'BN dx (dy, x -> dx)': [() => s.affine_rows(py, px, po, c, pv, pv, pv, 0, rows), 3],
  'BN+PReLU dx': [(at) => s.bn_prelu_dx(py, px, po, c, sumsAt(at, 4) + 28 * c * groups, 0, rows), 3],
};
const pairs: Record<string, string[]> = {
  'cold BN+PReLU forward': ['statistics (x)', 'BN+PReLU apply'],
  'cold BN+PReLU gradient': ['BN+PReLU grad sums', 'BN+PReLU dx'],
};

const scratch = 8 * c * groups * 4 + 28 * c * groups + 65536;
withScratch(
  b,
  scratch,
  (at) => {
    const report = (name: string, ms: number, operands: number) =>
      process.stdout.write(
        `${ms.toFixed(2).padStart(7)} ms ${((operands * 4 * n) / ms / 1e6).toFixed(1).padStart(5)} GB/s  ${name}\n`,
      );
    for (const [name, [run, operands]] of Object.entries(passes)) {
      run(at);
      const ms: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = cpuMs();
        run(at);
        ms.push(cpuMs() - t0);
      }
      report(name, median(ms), operands);
    }
    for (const [name, parts] of Object.entries(pairs)) {
      const ms: number[] = [];
      for (let i = 0; i < reps; i++) {
        s.col_sums_rg(ptr(b, junk), 0, junkValues / 512, 512, pv, at, sumsAt(at, 1), 0, sumsAt(at, 4), 1 << 20, 0, 1);
        const t0 = cpuMs();
        for (const p of parts) passes[p]![0](at);
        ms.push(cpuMs() - t0);
      }
      report(
        name,
        median(ms),
        parts.reduce((a, p) => a + passes[p]![1], 0),
      );
    }
  },
  scratch,
);
process.stdout.write(`[${shape.join(',')}], ${c} channels, 1 thread, median CPU time of ${reps}\n`);
