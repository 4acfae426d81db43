import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { synthTinySet } from './fixtures/experiment.js';

// A loss of the user's own, in a file outside the repository (the examples/ plug-in copied to a
// temporary folder), end to end through the real CLI: exp params, exp run in-process, a sweep
// YAML with `plugins:` on the local executor (each trial in a child trainer), the same sweep
// through `exp worker` on a SQLite store, and the refusals once the file changes.
const CLI = join(process.cwd(), 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'exp-plugins-cli-'));
const data = join(dir, 'data');
const db = join(dir, 'exp.db');
const plugin = join(dir, 'mine', 'focal.mjs');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function exp(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });
}

/**
 * A small classifier (the log-Mel branch alone, no SoftTriple), one epoch on 1 s clips, trained with
 * --backend wasm (our kernels, ~2 s a run here; tfjs's plain JS cpu backend took ~40 s a run and
 * the plug-in does not depend on the backend).
 */
const BASE = `name: tiny
seed: 1
data: {root: ${data}, seconds: 1}
features: {branches: [logmel]}
loss: {metric: null}
train: {epochs: 1, batchSize: 4, lr: 0.001}
`;

function sweepYaml(name: string, gammas: number[]): string {
  const file = join(dir, `${name}.yaml`);
  const trials = gammas
    .map(
      (g) => `  - name: gamma-${g}\n    set: {loss.classification: {name: focal-cosface, margin: 0.2, gamma: ${g}}}\n`,
    )
    .join('');
  writeFileSync(file, `name: ${name}\nbase: ./base.yaml\nplugins: [./mine/focal.mjs]\ntrials:\n${trials}`);
  return file;
}

interface Row {
  id: string;
  status: string;
  config: string;
  trial: string | null;
}
function runsOf(sweep: string): Row[] {
  const d = new Database(db, { readonly: true });
  const rows = d
    .prepare('SELECT id, status, config, trial FROM runs WHERE sweep = ? ORDER BY trial')
    .all(sweep) as Row[];
  d.close();
  return rows;
}

function epochLoss(runId: string): number {
  const d = new Database(db, { readonly: true });
  const row = d.prepare('SELECT loss FROM epochs WHERE run_id = ? ORDER BY epoch DESC').get(runId) as { loss: number };
  d.close();
  return row.loss;
}

before(() => {
  synthTinySet(data, { types: 'fan' });
  mkdirSync(join(dir, 'mine'));
  copyFileSync(resolve('examples/focal-loss.mjs'), plugin);
  writeFileSync(join(dir, 'base.yaml'), BASE);
});

test('exp params: --plugin adds the loss and its key; without it the name is unknown and the error lists what exists', () => {
  const ok = exp([
    'params',
    'base.yaml',
    '--plugin',
    plugin,
    '--set',
    'loss.classification.name=focal-cosface',
    '--set',
    'loss.classification.gamma=1',
    '--json',
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { modules: Record<string, number> }).modules['logmel'], 0);
  const unknown = exp(['params', 'base.yaml', '--set', 'loss.classification.name=focal-cosface']);
  assert.equal(unknown.status, 1);
  assert.equal(
    unknown.stderr,
    'exp: loss.classification.name: unknown classification loss "focal-cosface"; registered names: arcface, arcmix, noisy-arcmix\n',
  );
  const key = exp(['params', 'base.yaml', '--set', 'loss.classification.gamma=1']);
  assert.equal(key.status, 1);
  assert.match(
    key.stderr,
    /^exp: base\.yaml \(with --set loss\.classification\.gamma\): unknown key loss\.classification\.gamma\n$/,
  );
});

test('exp run --plugin trains in-process with the loss, records path and sha256, and exp show lists them', () => {
  const r = exp([
    'run',
    'base.yaml',
    '--plugin',
    'mine/focal.mjs',
    '--set',
    'loss.classification={name: focal-cosface, margin: 0.2}',
    '--db',
    db,
    '--json',
    '--backend',
    'wasm',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const { id } = JSON.parse(r.stdout) as { id: string };
  const d = new Database(db, { readonly: true });
  const row = d.prepare('SELECT status, config FROM runs WHERE id = ?').get(id) as { status: string; config: string };
  d.close();
  assert.equal(row.status, 'done');
  const config = JSON.parse(row.config) as { plugins: unknown; loss: { classification: Record<string, unknown> } };
  assert.deepEqual(config.plugins, [{ path: plugin, sha256: sha256(plugin) }]);
  assert.deepEqual(config.loss.classification, { name: 'focal-cosface', margin: 0.2, scale: 30, alpha: 0.5, gamma: 2 });
  assert.ok(Number.isFinite(epochLoss(id)));
  const show = exp(['show', id, '--db', db]);
  assert.equal(show.status, 0, show.stderr);
  assert.ok(show.stdout.includes(`plug-in ${plugin}  sha256 ${sha256(plugin).slice(0, 16)}`), show.stdout);
  assert.match(show.stdout, /loss\.classification\.gamma: 2/);
});

test('a sweep YAML with plugins: runs on the local executor (child trainers) and through exp worker; a changed file is refused', () => {
  const local = exp([
    'sweep',
    sweepYaml('focal-local', [0, 2]),
    '--db',
    db,
    '--no-dashboard',
    '--backend',
    'wasm',
    '--concurrency',
    '1',
  ]);
  assert.equal(local.status, 0, local.stderr);
  // exp worker trains in its own process, as a Slurm task or a worker started by hand on another host would.
  const worker = exp(['worker', '--sweep', sweepYaml('focal-worker', [2]), '--db', db, '--backend', 'wasm']);
  assert.equal(worker.status, 0, worker.stderr);
  const sha = sha256(plugin);
  for (const [sweep, trials] of [
    ['focal-local', ['gamma-0', 'gamma-2']],
    ['focal-worker', ['gamma-2']],
  ] as const) {
    const rows = runsOf(sweep);
    assert.deepEqual(
      rows.map((r) => [r.trial, r.status]),
      trials.map((t) => [t, 'done']),
      sweep,
    );
    for (const r of rows) {
      const c = JSON.parse(r.config) as {
        plugins: Array<{ path: string; sha256: string }>;
        loss: { classification: { gamma: number } };
      };
      assert.deepEqual(c.plugins, [{ path: plugin, sha256: sha }]);
      assert.equal(c.loss.classification.gamma, r.trial === 'gamma-0' ? 0 : 2);
      assert.ok(Number.isFinite(epochLoss(r.id)));
    }
  }
  // gamma 0 is cross-entropy, gamma 2 down-weights easy clips: the same seed gives different losses.
  const [g0, g2] = runsOf('focal-local').map((r) => epochLoss(r.id));
  assert.notEqual(g0, g2);

  appendFileSync(plugin, '\n// edited after the sweep\n');
  const refused = exp(['worker', '--sweep', join(dir, 'focal-worker.yaml'), '--db', db, '--backend', 'wasm']);
  assert.equal(refused.status, 1, refused.stderr);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(
      `^exp: plug-in ${plugin}: sha256 ${sha256(plugin).slice(0, 12)} on this host, but sweep focal-worker was registered with ${plugin} at sha256 ${sha.slice(0, 12)}; use the same file on every host\\n$`,
    ),
  );
  assert.equal(runsOf('focal-worker').length, 1, 'the refused worker added no trials');

  const resume = exp(['run', '--resume', runsOf('focal-local')[0]!.id, '--db', db]);
  assert.equal(resume.status, 1);
  assert.match(
    resume.stderr,
    /^exp: plug-in .*focal\.mjs: its content differs from what run \S+ was made with \(sha256 [0-9a-f]{12} here, [0-9a-f]{12} recorded\); restore that version, or start a new run\n$/,
  );
});
