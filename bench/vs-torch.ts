/**
 * exp against the PyTorch reference on the same network, step and cores, side by side: for each
 * batch size, `exp bench --json` then `tools/bench_torch.py` (PyTorch CPU; development only:
 * `apt-get install python3-torch`), alternately, and one markdown table of training and inference
 * clips/s with the ratios (exp / PyTorch) and the load average before each pair.
 * Meaningful on a quiet machine only (the load column says whether it was).
 *   npm run build && node --import tsx bench/vs-torch.ts [--batches 4,8,16] [--steps 5] [--threads 2] [--python /usr/bin/python3]
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '4,8,16' },
    steps: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});

interface Result {
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

const rows: string[] = [];
for (const batch of values.batches.split(',').map(Number)) {
  const load = os.loadavg()[0]!;
  const ours = json(process.execPath, [
    'dist/cli/main.js',
    'bench',
    '--batch',
    String(batch),
    '--steps',
    values.steps,
    '--threads',
    values.threads,
    '--json',
  ]);
  const torch = json(values.python, [
    'tools/bench_torch.py',
    '--batch',
    String(batch),
    '--steps',
    values.steps,
    '--threads',
    values.threads,
  ]);
  const f = (x: number) => x.toFixed(2);
  rows.push(
    `| ${batch} | ${f(ours.train.clipsPerSec)} | ${f(torch.train.clipsPerSec)} | **${f(ours.train.clipsPerSec / torch.train.clipsPerSec)}** | ${f(ours.infer.clipsPerSec)} | ${f(torch.infer.clipsPerSec)} | **${f(ours.infer.clipsPerSec / torch.infer.clipsPerSec)}** | ${load.toFixed(1)} |`,
  );
}
process.stdout.write(
  `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${values.threads} threads, ${values.steps} timed steps after 1 warm-up\n\n`,
);
process.stdout.write(
  '| batch | exp train clips/s | PyTorch train | ratio | exp infer clips/s | PyTorch infer | ratio | load before |\n|---|---|---|---|---|---|---|---|\n',
);
process.stdout.write(`${rows.join('\n')}\n`);
