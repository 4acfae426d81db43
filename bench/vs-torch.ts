/**
 * exp against the PyTorch reference on the same network, step and cores, side by side: for each
 * batch size, `exp bench --json` then `tools/bench_torch.py` (PyTorch CPU; development only:
 * `apt-get install python3-torch`), alternately, `--repeat` times, and one markdown table of
 * training and inference clips/s (medians over the repeats, with their range) and the ratios
 * (exp / PyTorch, of the medians), with the 1-minute load average around the pairs.
 * Meaningful on a quiet machine only (the load column says whether it was).
 *   npm run bench:torch [-- --batches 4,8,16] [--steps 5] [--repeat 3] [--threads 2] [--python /usr/bin/python3]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { NATIVE_LABEL, type NativeIsa } from '../src/backend/kernels/native.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '4,8,16' },
    steps: { type: 'string', default: '5' },
    repeat: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});

interface Result {
  backend: string;
  simdKernels?: string;
  nativeKernels?: NativeIsa;
  train: { clipsPerSec: number };
  infer: { clipsPerSec: number };
}

function json(cmd: string, args: string[]): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').pop()}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Result;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const f = (x: number) => x.toFixed(2);
/** "median (min-max)" of a list of clips/s, or the value alone for one run. */
const cell = (xs: number[]): string =>
  xs.length === 1 ? f(xs[0]!) : `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;

const repeat = Math.max(1, Number(values.repeat));
const rows: string[] = [];
let torchVersion = '';
let simd = '';
let native = '';
for (const batch of values.batches.split(',').map(Number)) {
  const runs = { ours: [] as Result[], torch: [] as Result[] };
  const loads: number[] = [];
  for (let i = 0; i < repeat; i++) {
    loads.push(os.loadavg()[0]!);
    const common = ['--batch', String(batch), '--steps', values.steps, '--threads', values.threads];
    runs.ours.push(json(process.execPath, ['dist/cli/main.js', 'bench', ...common, '--json']));
    runs.torch.push(json(values.python, ['tools/bench_torch.py', ...common]));
    loads.push(os.loadavg()[0]!);
  }
  torchVersion = runs.torch[0]!.backend;
  simd = runs.ours[0]!.simdKernels ?? '';
  const isa = runs.ours[0]!.nativeKernels;
  native = isa ? `, ${NATIVE_LABEL[isa]}` : '';
  const [ot, oi] = [runs.ours.map((r) => r.train.clipsPerSec), runs.ours.map((r) => r.infer.clipsPerSec)];
  const [tt, ti] = [runs.torch.map((r) => r.train.clipsPerSec), runs.torch.map((r) => r.infer.clipsPerSec)];
  rows.push(
    `| ${batch} | ${cell(ot)} | ${cell(tt)} | **${f(median(ot) / median(tt))}** | ${cell(oi)} | ${cell(ti)} | **${f(median(oi) / median(ti))}** | ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} |`,
  );
}
const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
process.stdout.write(
  `exp ${commit} (wasm, ${simd || '?'} SIMD kernels${native}) vs ${torchVersion}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${values.threads} threads, ${values.steps} timed steps after 1 warm-up, ${repeat} alternating pair(s) per batch: median (min-max) clips/s; ratio = exp / PyTorch of the medians\n\n`,
);
process.stdout.write(
  '| batch | exp train clips/s | PyTorch train | ratio | exp infer clips/s | PyTorch infer | ratio | load average |\n|---|---|---|---|---|---|---|---|\n',
);
process.stdout.write(`${rows.join('\n')}\n`);
