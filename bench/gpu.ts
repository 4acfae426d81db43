/**
 * The full FGASpecNet (experiments/fgaspecnet.yaml, 10 s clips) on a GPU machine: training and
 * inference clips/s and peak GPU memory at batch 32 and 64, each batch in its own process, next
 * to the PyTorch reference (tools/bench_torch.py, on CUDA when PyTorch sees a GPU) when PyTorch is
 * installed. Not a test; numbers depend on the GPU, its driver and what else runs.
 *   npm run bench:gpu
 *   npm run bench:gpu -- --batches 8,16 --steps 5 --backend webgpu --gpu-adapter "RTX 3090"
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { join } from 'node:path';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '32,64' },
    steps: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'webgpu' },
    'gpu-adapter': { type: 'string' },
    experiment: { type: 'string', default: 'experiments/fgaspecnet.yaml' },
  },
});
const batches = values.batches.split(',').map(Number);
if (batches.some((b) => !Number.isInteger(b) || b < 2)) {
  process.stderr.write(
    `bench:gpu: --batches expects whole numbers >= 2 like 32,64, got ${JSON.stringify(values.batches)}\n`,
  );
  process.exit(1);
}
const CLI = join(process.cwd(), 'dist/cli/main.js');

interface Row {
  what: string;
  batch: number;
  train: number | null;
  infer: number | null;
  memory: string;
  note: string;
}
const rows: Row[] = [];
const mib = (n: number | undefined) => (n === undefined ? '-' : `${Math.round(n / 2 ** 20)} MiB`);

for (const batch of batches) {
  const args = [
    CLI,
    'bench',
    values.experiment,
    '--backend',
    values.backend,
    '--batch',
    String(batch),
    '--steps',
    values.steps,
    '--json',
  ];
  if (values['gpu-adapter']) args.push('--gpu-adapter', values['gpu-adapter']);
  process.stderr.write(`exp bench --backend ${values.backend} --batch ${batch} ...\n`);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    rows.push({
      what: `exp ${values.backend}`,
      batch,
      train: null,
      infer: null,
      memory: '-',
      note: `failed (exit ${r.status})`,
    });
    continue;
  }
  const j = JSON.parse(r.stdout) as {
    train: { clipsPerSec: number };
    infer: { clipsPerSec: number };
    microBatch: number;
    gpuPeakBytes?: number;
    wasmHeapBytes?: number;
    gpu?: { description: string };
  };
  rows.push({
    what: `exp ${values.backend}`,
    batch,
    train: j.train.clipsPerSec,
    infer: j.infer.clipsPerSec,
    memory: mib(j.gpuPeakBytes ?? j.wasmHeapBytes),
    note: `micro-batch ${j.microBatch}${j.gpu ? `, ${j.gpu.description}` : ''}`,
  });
}

const torch = spawnSync('python3', ['-c', 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")'], {
  encoding: 'utf8',
});
if (torch.status === 0) {
  const device = torch.stdout.trim();
  for (const batch of batches) {
    process.stderr.write(`tools/bench_torch.py --device ${device} --batch ${batch} ...\n`);
    const r = spawnSync(
      'python3',
      ['tools/bench_torch.py', '--device', device, '--batch', String(batch), '--steps', values.steps],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (r.status !== 0) {
      rows.push({
        what: `PyTorch ${device}`,
        batch,
        train: null,
        infer: null,
        memory: '-',
        note: `failed (exit ${r.status})`,
      });
      continue;
    }
    const j = JSON.parse(r.stdout) as {
      backend: string;
      train: { clipsPerSec: number };
      infer: { clipsPerSec: number };
      peakBytes?: number;
    };
    rows.push({
      what: `${j.backend} ${device}`,
      batch,
      train: j.train.clipsPerSec,
      infer: j.infer.clipsPerSec,
      memory: mib(j.peakBytes),
      note: '',
    });
  }
} else {
  process.stderr.write('PyTorch is not installed: no reference row (pip install torch)\n');
}

const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
const lines = ['| what | batch | train clips/s | infer clips/s | peak memory | note |', '|---|---|---|---|---|---|'];
for (const r of rows)
  lines.push(`| ${r.what} | ${r.batch} | ${f(r.train)} | ${f(r.infer)} | ${r.memory} | ${r.note} |`);
process.stdout.write(`${lines.join('\n')}\n`);
