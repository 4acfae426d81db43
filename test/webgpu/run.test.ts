import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { synthTinySet, writeExperiment } from '../fixtures/experiment.js';

// `exp run --backend webgpu` end to end on a tiny generated set (lavapipe is ~15x slower than
// wasm: 16 training clips of 1 s, 2 epochs), against the same run on wasm over three seeds.
const CLI = join(process.cwd(), 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'exp-webgpu-run-'));
const data = join(dir, 'data');
const db = join(dir, 'runs', 'exp.db');
// One shader cache for every process of this file (npm run test:webgpu points it at runs/cache/shaders).
const env = {
  ...process.env,
  EXP_SHADER_CACHE: process.env['MESA_SHADER_CACHE_DIR'] ?? join(process.cwd(), 'runs', 'cache', 'shaders'),
};

function exp(args: string[], extraEnv: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, env: { ...env, ...extraEnv } });
}

const experiment = (seed: number): string =>
  writeExperiment(dir, {
    name: 'tiny',
    file: `tiny-${seed}`,
    seed,
    data,
    train: { epochs: 2, batchSize: 8, lr: 0.001 },
  });

interface RunOut {
  id: string;
  metrics: { average: { auc: number } };
}

function lastLoss(id: string): number {
  const d = new Database(db, { readonly: true });
  const row = d.prepare('SELECT loss FROM epochs WHERE run_id = ? ORDER BY epoch DESC LIMIT 1').get(id) as {
    loss: number;
  };
  d.close();
  return row.loss;
}

before(() => synthTinySet(data, { train: 4 }));

test('a short run on webgpu ends within seed noise of the same run on wasm; the adapter is printed and stored', () => {
  const wasm = [1, 2, 3].map((seed) => {
    const r = exp(['run', experiment(seed), '--db', db, '--json', '--backend', 'wasm']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as RunOut;
    return { auc: out.metrics.average.auc, loss: lastLoss(out.id) };
  });
  // Without --json, so the progress lines (the adapter among them) are printed.
  const r = exp(['run', experiment(1), '--db', db, '--backend', 'webgpu', '--no-dashboard']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /adapter mesa software \(llvmpipe/, 'the adapter is printed at the start');
  const listed = JSON.parse(exp(['runs', '--db', db, '--json']).stdout) as Array<{
    id: string;
    startedAt: string;
    metrics: { auc: number };
  }>;
  const last = listed.sort((x, y) => x.startedAt.localeCompare(y.startedAt)).at(-1)!;
  const out: RunOut = { id: last.id, metrics: { average: { auc: last.metrics.auc } } };
  const gpu = { auc: out.metrics.average.auc, loss: lastLoss(out.id) };
  const d = new Database(db, { readonly: true });
  const run = d.prepare('SELECT backend, info FROM runs WHERE id = ?').get(out.id) as { backend: string; info: string };
  d.close();
  assert.equal(run.backend, 'webgpu');
  const info = JSON.parse(run.info) as {
    gpu: { vendor: string; architecture: string; software: boolean; limits: { maxStorageBufferBindingSize: number } };
    deviceFit: { probeBytes: number };
  };
  assert.equal(info.gpu.vendor, 'mesa');
  assert.equal(info.gpu.software, true);
  assert.ok(info.gpu.limits.maxStorageBufferBindingSize > 0 && info.deviceFit.probeBytes > 0);

  const range = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  const lossNoise = range(wasm.map((w) => w.loss));
  // 2 normal x 2 anomalous test clips per ID, 4 IDs: one swapped pair moves the average AUC by 1/16.
  const aucNoise = Math.max(range(wasm.map((w) => w.auc)), 1 / 16);
  process.stderr.write(
    `# final train loss: webgpu ${gpu.loss.toFixed(5)}, wasm seed 1 ${wasm[0]!.loss.toFixed(5)} (seeds 1-3 span ${lossNoise.toFixed(5)})\n`,
  );
  process.stderr.write(
    `# average AUC: webgpu ${gpu.auc.toFixed(4)}, wasm seed 1 ${wasm[0]!.auc.toFixed(4)} (seeds 1-3: ${wasm.map((w) => w.auc.toFixed(4)).join(', ')})\n`,
  );
  assert.ok(
    Math.abs(gpu.loss - wasm[0]!.loss) <= lossNoise,
    `loss ${gpu.loss} vs ${wasm[0]!.loss}: beyond the seeds' span ${lossNoise}`,
  );
  assert.ok(Math.abs(gpu.auc - wasm[0]!.auc) <= aucNoise, `AUC ${gpu.auc} vs ${wasm[0]!.auc}: beyond ${aucNoise}`);
});

test('a micro-batch beyond the device limit is refused before training: exit 1, one line naming the limit and what to change', () => {
  const r = exp(['run', experiment(1), '--db', db, '--backend', 'webgpu', '--no-dashboard'], {
    EXP_WEBGPU_MAX_BINDING_BYTES: '65536',
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /binding limit of 0\.1 MiB/);
  assert.match(r.stderr, /data\.seconds/);
  assert.doesNotMatch(r.stderr, /epoch 1\/2/, 'no epoch was trained');
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
