import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { connectPg } from '../fixtures/pg-client.js';
import { synthesize } from '../../src/data/synth/generate.js';

// A loss of the user's own, in a file outside the repository, trained by `exp worker` tasks of a
// real Slurm job array against the shared PostgreSQL store (`npm run test:cluster` starts both).
// Real training (no fake trainer): the plug-in's loss is what each task computes. A task that
// starts after the file changed refuses, in one line, before it claims anything.
const URL_ = process.env.EXP_TEST_PG_URL;
const CLI = resolve('dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'exp-plugins-slurm-'));
const plugin = join(dir, 'mine', 'focal.mjs');
const art = join(dir, 'art');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
let client: pg.Client;

before(async () => {
  assert.ok(
    URL_ && process.env.SLURM_CONF,
    'SLURM_CONF / EXP_TEST_PG_URL are not set: run these tests with npm run test:cluster',
  );
  client = await connectPg(URL_);
  const data = join(dir, 'data');
  synthesize({ out: data, seed: 0, types: ['fan'], ids: 2, train: 6, test: 4, seconds: 1, sampleRate: 16000 });
  mkdirSync(join(dir, 'mine'));
  copyFileSync(resolve('examples/focal-loss.mjs'), plugin);
  // A small classifier (the log-Mel branch alone, no SoftTriple), one epoch on 1 s clips.
  writeFileSync(
    join(dir, 'base.yaml'),
    `name: tiny\nseed: 1\ndata: {root: ${JSON.stringify(data)}, seconds: 1}\nfeatures: {branches: [logmel]}\nloss: {metric: null}\ntrain: {epochs: 1, batchSize: 4, lr: 0.001}\n`,
  );
});
after(async () => {
  await client?.end();
});

/** A sweep over the focal loss's gamma; `plugins:` in the YAML unless the plug-in comes by --plugin. */
function sweepYaml(name: string, gammas: number[], inYaml: boolean): string {
  const file = join(dir, `${name}.yaml`);
  const trials = gammas
    .map(
      (g) => `  - name: gamma-${g}\n    set: {loss.classification: {name: focal-cosface, margin: 0.2, gamma: ${g}}}\n`,
    )
    .join('');
  writeFileSync(
    file,
    `name: ${name}\nbase: ./base.yaml\n${inYaml ? 'plugins: [./mine/focal.mjs]\n' : ''}trials:\n${trials}`,
  );
  return file;
}

/** The CLI from the test's folder (relative plug-in paths resolve there), as an orchestrator would run it. */
function exp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, CI: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((res) => child.on('exit', (code) => res({ code, stdout, stderr })));
}

const slurmArgs = (file: string, ...more: string[]) => [
  'sweep',
  file,
  '--executor',
  'slurm',
  '--db',
  URL_!,
  '--artifacts',
  art,
  '--backend',
  'cpu',
  '--concurrency',
  '2',
  '--no-dashboard',
  ...more,
];

interface Row {
  id: string;
  trial: string;
  status: string;
  config: { plugins?: Array<{ path: string; sha256: string }>; loss: { classification: { gamma?: number } } };
}
async function runsOf(sweep: string): Promise<Row[]> {
  const r = await client.query(`SELECT id, trial, status, config FROM runs WHERE sweep = $1 ORDER BY trial`, [sweep]);
  return r.rows.map((x: Record<string, unknown>) => ({
    id: String(x.id),
    trial: String(x.trial),
    status: String(x.status),
    config: (typeof x.config === 'string' ? JSON.parse(x.config) : x.config) as Row['config'],
  }));
}
async function finalLoss(runId: string): Promise<number> {
  const r = await client.query('SELECT loss FROM epochs WHERE run_id = $1 ORDER BY epoch DESC LIMIT 1', [runId]);
  return Number(r.rows[0]?.loss);
}

/** The task logs of one job (`<job>_<task>.out` under the artifacts' slurm/ folder). */
function jobLogs(job: string): string[] {
  const d = join(art, 'slurm');
  return readdirSync(d)
    .filter((f) => f.startsWith(`${job}_`) && f.endsWith('.out'))
    .map((f) => readFileSync(join(d, f), 'utf8'));
}

async function jobGone(job: string, seconds = 180): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (spawnSync('squeue', ['-h', '-j', job], { encoding: 'utf8' }).stdout.trim() !== '') {
    if (Date.now() > end) throw new Error(`Slurm job ${job} still queued or running after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function assertTrained(sweep: string, gammas: number[], path: string, sha: string): Promise<number[]> {
  const rows = await runsOf(sweep);
  assert.deepEqual(
    rows.map((r) => [r.trial, r.status]),
    gammas.map((g) => [`gamma-${g}`, 'done']),
  );
  const losses: number[] = [];
  for (const r of rows) {
    assert.deepEqual(r.config.plugins, [{ path, sha256: sha }], `${r.trial} records the plug-in`);
    assert.equal(r.config.loss.classification.gamma, Number(r.trial.slice('gamma-'.length)));
    const loss = await finalLoss(r.id);
    assert.ok(Number.isFinite(loss), `${r.trial}: a finite loss (${loss})`);
    losses.push(loss);
  }
  return losses;
}

test('plugins: in a sweep YAML reaches every Slurm task; a task that starts after the file changed refuses before claiming', async () => {
  const file = sweepYaml('pl-slurm', [0, 2], true);
  const sha = sha256(plugin);

  // The job is submitted held (sbatch --hold), the file changes, then the job is released: its
  // workers load a file whose hash is not the one the sweep was registered with.
  const held = await exp(slurmArgs(file, '--detach', '--sbatch=--hold'));
  assert.equal(held.code, 0, held.stderr);
  const job = /submitted Slurm job (\d+)/.exec(held.stderr)?.[1];
  assert.ok(job, held.stderr);
  const original = readFileSync(plugin);
  writeFileSync(plugin, `${original}\n// edited after the sweep was submitted\n`);
  const edited = sha256(plugin);
  const release = spawnSync('scontrol', ['release', job], { encoding: 'utf8' });
  assert.equal(release.status, 0, release.stderr);
  await jobGone(job);
  const logs = jobLogs(job);
  assert.equal(logs.length, 2, 'two tasks ran');
  for (const log of logs) {
    const lines = log.trim().split('\n');
    assert.equal(
      lines.at(-1),
      `exp: plug-in ${plugin}: sha256 ${edited.slice(0, 12)} on this host, but sweep pl-slurm was registered with ${plugin} at sha256 ${sha.slice(0, 12)}; use the same file on every host`,
      log,
    );
    assert.doesNotMatch(log, /started run|Error:|\n\s+at /, 'refused before claiming, no stack trace');
  }
  assert.deepEqual(
    (await runsOf('pl-slurm')).filter((r) => r.status === 'running' || r.status === 'done'),
    [],
    'nothing claimed or trained',
  );

  // The same file again: the same command trains both trials on Slurm.
  writeFileSync(plugin, original);
  assert.equal(sha256(plugin), sha);
  const r = await exp(slurmArgs(file));
  assert.equal(r.code, 0, r.stderr);
  const [g0, g2] = await assertTrained('pl-slurm', [0, 2], plugin, sha);
  // gamma 0 is cross-entropy, gamma 2 down-weights easy clips: the same seed gives different losses.
  assert.notEqual(g0, g2);
  const job2 = /submitted Slurm job (\d+)/.exec(r.stderr)?.[1];
  assert.ok(job2 && job2 !== job, r.stderr);
  assert.equal(
    jobLogs(job2)
      .join('\n')
      .match(/: gamma-\d: started run/g)?.length,
    2,
    jobLogs(job2).join('\n'),
  );
});

test('--plugin PATH (relative) on exp sweep --executor slurm reaches the tasks as an absolute path', async () => {
  const file = sweepYaml('pl-slurm-flag', [2], false);
  const r = await exp(slurmArgs(file, '--plugin', 'mine/focal.mjs'));
  assert.equal(r.code, 0, r.stderr);
  await assertTrained('pl-slurm-flag', [2], plugin, sha256(plugin));
  assert.ok(existsSync(join(art, 'slurm')));
});
