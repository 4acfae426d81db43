import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import Database from 'better-sqlite3';
import { connectPg } from '../fixtures/pg-client.js';
import { sweepDir, fakeEnv, runCli } from '../fixtures/sweep-env.js';

// Sweeps on a real one-node Slurm cluster with a real PostgreSQL, both started by
// `npm run test:cluster` (tools/cluster/test.sh: SLURM_CONF, EXP_TEST_PG_URL, EXP_TEST_PG_DIR).
// Without them this file fails; it never passes without having run. Trials use the fake
// trainer (test/fixtures/fake-trainer.mjs): real checkpoints and events, no model.
const URL_ = process.env.EXP_TEST_PG_URL;
const PG_DIR = process.env.EXP_TEST_PG_DIR;
let client: pg.Client;

before(async () => {
  assert.ok(
    URL_ && PG_DIR && process.env.SLURM_CONF,
    'SLURM_CONF / EXP_TEST_PG_URL / EXP_TEST_PG_DIR are not set: run these tests with npm run test:cluster',
  );
  // The test file run before this one may leave its last array tasks completing for a few
  // seconds after its sweep returned (the node shows `mix` meanwhile): wait for them, then insist.
  const nodeState = () => spawnSync('sinfo', ['-h', '-N', '-o', '%t'], { encoding: 'utf8' });
  const until = Date.now() + 120_000;
  let sinfo = nodeState();
  while (sinfo.stdout.trim() !== 'idle' && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    sinfo = nodeState();
  }
  const queue = spawnSync('squeue', ['-h', '-o', '%i %T %j'], { encoding: 'utf8' }).stdout;
  assert.equal(
    sinfo.stdout.trim(),
    'idle',
    `the Slurm node is not idle after 120 s: ${sinfo.stdout}${sinfo.stderr}; queue: ${queue}`,
  );
  client = await connectPg(URL_);
});
after(async () => {
  await client.end();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rows = async (sql: string, args: unknown[] = []) =>
  (await client.query(sql, args)).rows as Array<Record<string, unknown>>;

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, seconds = 60): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A sweep with a unique name in the shared database, its artifacts directory, and the CLI flags of a Slurm run. */
function sweep(name: string, trials: number, epochs: number) {
  const s = sweepDir({ trials, epochs });
  const file = join(s.dir, `${name}.yaml`);
  const body = Array.from({ length: trials }, (_, i) => `  - {name: t${i}, set: {seed: ${i}}}\n`).join('');
  writeFileSync(file, `name: ${name}\nbase: base.yaml\ntrials:\n${body}`);
  const art = join(s.dir, 'art');
  return {
    ...s,
    name,
    sweep: file,
    art,
    args: (...more: string[]) => [
      'sweep',
      file,
      '--executor',
      'slurm',
      '--db',
      URL_!,
      '--artifacts',
      art,
      '--no-dashboard',
      ...more,
    ],
  };
}

/** Every task log of the sweep's jobs, concatenated. */
function taskLogs(art: string): string {
  const dir = join(art, 'slurm');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.out'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

/** Each start of the trial in the task logs: null for a fresh start, else the checkpoint it resumed from (fresh starts first). */
const starts = (logs: string, trial: string) =>
  [...logs.matchAll(new RegExp(`: ${trial}: started run \\S+( \\(resuming from (\\S+)\\))?`, 'g'))]
    .map((m) => m[2] ?? null)
    .sort((a, b) => (a === null ? -1 : b === null ? 1 : 0));

async function runOf(name: string, trial: string) {
  return (await rows(`SELECT id, status, pid, host FROM runs WHERE sweep = $1 AND trial = $2`, [name, trial]))[0] as
    | { id: string; status: string; pid: number; host: string }
    | undefined;
}

async function epochsOf(name: string, trial: string): Promise<number[]> {
  return (
    await rows(
      `SELECT e.epoch FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.sweep = $1 AND r.trial = $2 ORDER BY e.epoch`,
      [name, trial],
    )
  ).map((r) => Number(r.epoch));
}

/** Every trial done exactly once: one row per config hash, epochs 1..E once each, one final average. */
async function assertAllDone(name: string, trials: number, epochs: number): Promise<void> {
  const runs = await rows(`SELECT id, trial, status FROM runs WHERE sweep = $1 ORDER BY trial`, [name]);
  assert.deepEqual(
    runs.map((r) => r.status),
    Array(trials).fill('done'),
  );
  assert.deepEqual(
    await rows(`SELECT config_hash FROM runs WHERE sweep = $1 GROUP BY config_hash HAVING COUNT(*) > 1`, [name]),
    [],
  );
  for (const r of runs) {
    assert.deepEqual(
      await epochsOf(name, String(r.trial)),
      Array.from({ length: epochs }, (_, i) => i + 1),
      `${r.trial} epochs`,
    );
    const f = await rows(
      `SELECT COUNT(*)::int AS n FROM results WHERE run_id = $1 AND final = 1 AND scope = 'average'`,
      [r.id],
    );
    assert.equal(f[0]!.n, 1, `${r.trial}: one final average`);
  }
}

test('a 4-trial sweep on Slurm, concurrency 2: one job array 0-3%2, 4 done trials in PostgreSQL', async () => {
  const s = sweep('sl-four', 4, 3);
  const r = await runCli(s.args('--concurrency', '2'), fakeEnv(30)).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /submitted Slurm job (\d+): 4 task\(s\) of exp worker, at most 2 at once/);
  const job = /submitted Slurm job (\d+)/.exec(r.stderr)![1]!;
  const show = spawnSync('scontrol', ['-o', 'show', 'job', `${job}_0`], { encoding: 'utf8' });
  assert.match(show.stdout, /ArrayTaskThrottle=2/, show.stdout + show.stderr);
  await assertAllDone('sl-four', 4, 3);
  const jobs = await rows(`SELECT job_id, tasks, concurrency, state FROM sweep_jobs WHERE sweep = 'sl-four'`);
  assert.deepEqual(jobs, [{ job_id: job, tasks: 4, concurrency: 2, state: 'submitted' }]);
  const logs = taskLogs(s.art);
  for (const t of ['t0', 't1', 't2', 't3']) assert.equal(starts(logs, t).length, 1, `${t} ran once:\n${logs}`);
  // Nothing left: the same command submits nothing and ends at once.
  const again = await runCli(s.args('--concurrency', '2'), fakeEnv(30)).done;
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /submitted Slurm job/);
  const status = spawnSync(process.execPath, ['dist/cli/main.js', 'sweep', 'status', 'sl-four', '--db', URL_!], {
    encoding: 'utf8',
  });
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /sweep sl-four: 4 done/);
  assert.match(status.stdout, new RegExp(`job ${job} \\(slurm, 4 tasks, at most 2 at once.*\\): ended`));
});

/** The Slurm task (JOB_TASK) whose log shows the trial starting first. */
function taskOf(art: string, trial: string): string {
  const dir = join(art, 'slurm');
  const f = readdirSync(dir).find(
    (x) => x.endsWith('.out') && new RegExp(`: ${trial}: started run`).test(readFileSync(join(dir, x), 'utf8')),
  );
  assert.ok(f, `no task log shows ${trial} starting`);
  return f.replace(/\.out$/, '');
}

test('scancel of a running task mid-trial: the trial is interrupted at a checkpoint, another task resumes it, no finished trial runs again', async () => {
  const s = sweep('sl-scancel', 4, 6);
  const run = runCli(s.args('--concurrency', '2'), fakeEnv(150));
  await waitFor('t0 past its first checkpoint', async () => (await epochsOf('sl-scancel', 't0')).length >= 3);
  const task = taskOf(s.art, 't0');
  const c = spawnSync('scancel', [task], { encoding: 'utf8' });
  assert.equal(c.status, 0, c.stderr);
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  await assertAllDone('sl-scancel', 4, 6);
  const logs = taskLogs(s.art);
  assert.match(
    readFileSync(join(s.art, 'slurm', `${task}.out`), 'utf8'),
    /t0: interrupted \(SIGTERM; Slurm: cancelled \(scancel\)\); checkpointed, resumable/,
  );
  const t0 = starts(logs, 't0');
  assert.equal(t0.length, 2, logs);
  assert.equal(t0[0], null);
  assert.match(t0[1] ?? '', /epoch-000[246]$/, 'resumed from a checkpoint');
  for (const t of ['t1', 't2', 't3']) assert.equal(starts(logs, t).length, 1, `${t} ran once`);
});

test('kill -9 of a worker on another host: its lease runs out (--lease 3), another worker resumes the trial from its checkpoint', async () => {
  const s = sweep('sl-kill', 4, 6);
  const run = runCli(s.args('--concurrency', '2', '--lease', '3'), fakeEnv(150));
  await waitFor('t0 past its first checkpoint', async () => (await epochsOf('sl-kill', 't0')).length >= 3);
  const victim = (await runOf('sl-kill', 't0'))!;
  process.kill(victim.pid, 'SIGKILL');
  // As if the worker had run on another node: its pid cannot be checked from here, only its heartbeat.
  await client.query(`UPDATE runs SET host = 'elsewhere' WHERE id = $1`, [victim.id]);
  const beat = Number((await rows('SELECT heartbeat_at FROM runs WHERE id = $1', [victim.id]))[0]!.heartbeat_at);
  const resumedAt = await waitFor('t0 taken over', async () => {
    const row = (await rows(`SELECT host, started_at FROM runs WHERE id = $1`, [victim.id]))[0]!;
    return row.host !== 'elsewhere' ? Date.parse(String(row.started_at)) : null;
  });
  assert.ok(
    resumedAt - beat >= 3000,
    `taken over ${resumedAt - beat} ms after the last heartbeat, before the 3 s lease ran out`,
  );
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  await assertAllDone('sl-kill', 4, 6);
  const t0 = starts(taskLogs(s.art), 't0');
  assert.equal(t0.length, 2);
  assert.match(t0[1] ?? '', /epoch-000[246]$/, 'resumed from a checkpoint');
});

test('a PostgreSQL restart mid-sweep on Slurm: workers and the orchestrator retry, the sweep finishes, no metric recorded twice', async () => {
  const s = sweep('sl-pgrestart', 3, 6);
  const run = runCli(s.args('--concurrency', '2'), fakeEnv(100));
  await waitFor('t0 at epoch 2', async () => (await epochsOf('sl-pgrestart', 't0')).length >= 2);
  const r0 = spawnSync('bash', ['tools/cluster/pg.sh', 'restart', PG_DIR!], { encoding: 'utf8' });
  assert.equal(r0.status, 0, r0.stderr);
  await client.end().catch(() => undefined);
  client = await connectPg(URL_);
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  await assertAllDone('sl-pgrestart', 3, 6);
  const logs = taskLogs(s.art);
  for (const t of ['t0', 't1', 't2']) assert.equal(starts(logs, t).length, 1, `${t} ran once:\n${logs}`);
});

test('two orchestrators on one Slurm sweep: every trial trained exactly once, no duplicate config hash', async () => {
  const s = sweep('sl-two', 4, 3);
  const env = fakeEnv(60);
  const [a, b] = await Promise.all([
    runCli(s.args('--concurrency', '2'), env).done,
    runCli(s.args('--concurrency', '2'), env).done,
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  await assertAllDone('sl-two', 4, 3);
  const logs = taskLogs(s.art);
  for (const t of ['t0', 't1', 't2', 't3']) assert.equal(starts(logs, t).length, 1, `${t} ran once:\n${logs}`);
});

test('metrics of a trial run on Slurm equal those of the same trial run locally on SQLite', async () => {
  const s = sweep('sl-eq', 2, 3);
  const a = await runCli(s.args('--concurrency', '2'), fakeEnv(10)).done;
  assert.equal(a.code, 0, a.stderr);
  const local = join(s.dir, 'local.db');
  const b = await runCli(['sweep', s.sweep, '--db', local, '--no-dashboard'], fakeEnv(10)).done;
  assert.equal(b.code, 0, b.stderr);
  const q = `SELECT r.trial, s.path, s.score FROM scores s JOIN runs r ON r.id = s.run_id WHERE r.sweep = 'sl-eq' AND s.final = 1 ORDER BY r.trial, s.path`;
  const onSlurm = await rows(q);
  const d = new Database(local, { readonly: true });
  const onLocal = d.prepare(q).all();
  const avg = `SELECT r.trial, a.auc, a.pauc, a.pauc_mcclish FROM results a JOIN runs r ON r.id = a.run_id WHERE r.sweep = 'sl-eq' AND a.final = 1 AND a.scope = 'average' ORDER BY r.trial`;
  const localAvg = d.prepare(avg).all();
  d.close();
  assert.equal(onSlurm.length, 2 * 64);
  assert.deepEqual(onSlurm, onLocal);
  assert.deepEqual(await rows(avg), localAvg);
});

test('--requeue: SIGUSR1 before the time limit checkpoints, requeues the task, and its restart resumes the trial', async () => {
  // One trial, one task: only the requeued task itself can resume it.
  const s = sweep('sl-requeue', 1, 6);
  const run = runCli(s.args('--requeue'), fakeEnv(200));
  await waitFor('t0 past its first checkpoint', async () => (await epochsOf('sl-requeue', 't0')).length >= 3);
  const task = taskOf(s.art, 't0');
  // What sbatch --signal=B:USR1@120 sends to the batch shell (the worker) before the time limit.
  const c = spawnSync('scancel', ['--batch', '--signal=USR1', task], { encoding: 'utf8' });
  assert.equal(c.status, 0, c.stderr);
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  await assertAllDone('sl-requeue', 1, 6);
  const log = readFileSync(join(s.art, 'slurm', `${task}.out`), 'utf8');
  assert.match(log, /requeued Slurm task/);
  const t0 = starts(log, 't0');
  assert.equal(t0.length, 2, log);
  assert.match(t0[1] ?? '', /epoch-000[246]$/, 'resumed from a checkpoint');
  const show = spawnSync('scontrol', ['-o', 'show', 'job', task], { encoding: 'utf8' });
  assert.match(show.stdout, /Restarts=1/, show.stdout + show.stderr);
});
