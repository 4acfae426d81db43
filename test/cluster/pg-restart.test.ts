import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryOnce } from '../fixtures/pg-client.js';
import { sweepDir, fakeEnv, CLI } from '../fixtures/sweep-env.js';

// A run survives its database server: stopped and started again mid-run (several times, at
// different moments), and gone for good. Run by `npm run test:cluster` (tools/cluster/test.sh:
// EXP_TEST_PG_URL, EXP_TEST_PG_DIR); without them this file fails.
const URL_ = process.env.EXP_TEST_PG_URL;
const PG_DIR = process.env.EXP_TEST_PG_DIR;

before(() => {
  assert.ok(URL_ && PG_DIR, 'EXP_TEST_PG_URL / EXP_TEST_PG_DIR are not set: run these tests with npm run test:cluster');
});
after(() => {
  // Whatever failed, the server is left running for the other test files.
  pgctl('start', true);
});

function pgctl(cmd: 'stop' | 'start', quiet = false): void {
  const r = spawnSync('bash', ['tools/cluster/pg.sh', cmd, PG_DIR!], { encoding: 'utf8' });
  if (!quiet) assert.equal(r.status, 0, `pg.sh ${cmd}: ${r.stderr}`);
}

/** One query on a fresh connection (the server is stopped between queries of these tests). */
const rows = (sql: string, args: unknown[] = []) => queryOnce(URL_, sql, args);

/** An exp process; at each stderr pattern (in order) the action runs once. */
function exp(
  args: string[],
  env: NodeJS.ProcessEnv,
  steps: Array<{ pattern: RegExp; then: () => void | Promise<void> }> = [],
) {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let next = 0;
  let busy = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', async (d: Buffer) => {
    stderr += d;
    if (busy || next >= steps.length || !steps[next]!.pattern.test(stderr)) return;
    busy = true;
    await steps[next++]!.then();
    busy = false;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.on('exit', (code) => res({ code, stdout, stderr })),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops the server, keeps it down for `ms`, starts it again (the run meanwhile waits and retries). */
const outage = (ms: number) => async () => {
  pgctl('stop');
  await sleep(ms);
  pgctl('start');
};

function experiment(name: string, epochs: number): string {
  const s = sweepDir({ trials: 1, epochs });
  const file = join(s.dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nbase: base.yaml\n`);
  return join(s.dir, 'base.yaml');
}

test('exp run: the server stopped and started three times at different moments; the run finishes, every epoch and result stored once', async () => {
  const name = `restart-${Date.now().toString(36)}`;
  const file = experiment(name, 10);
  const env = { ...fakeEnv(150), EXP_DB_RETRY_SECONDS: '60' };
  const r = await exp(['run', file, '--name', name, '--db', URL_!, '--no-dashboard'], env, [
    // Right after the run row exists, before the first epoch is stored.
    { pattern: /steps per epoch\n/, then: outage(3000) },
    // Between epochs, and just after a checkpoint (epoch 6, checkpointEvery 2).
    { pattern: /epoch 4\/10 /, then: outage(4000) },
    { pattern: /epoch 6\/10 /, then: outage(2000) },
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Emitted 'error'|\n\s+at /);
  const run = (await rows('SELECT id, status FROM runs WHERE name = $1', [name]))[0]!;
  assert.equal(run.status, 'done');
  const epochs = await rows('SELECT epoch FROM epochs WHERE run_id = $1 ORDER BY epoch', [run.id]);
  assert.deepEqual(
    epochs.map((e) => e.epoch),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  const finals = await rows(
    `SELECT COUNT(*)::int AS n FROM results WHERE run_id = $1 AND final = 1 AND scope = 'average'`,
    [run.id],
  );
  assert.equal(finals[0]!.n, 1);
});

test('exp run: the server gone for good: exit 1 after the retry time, one true line, the run left resumable; --resume finishes it', async () => {
  const name = `gone-${Date.now().toString(36)}`;
  const file = experiment(name, 8);
  const env = { ...fakeEnv(150), EXP_DB_RETRY_SECONDS: '4' };
  const r = await exp(['run', file, '--name', name, '--db', URL_!, '--no-dashboard'], env, [
    { pattern: /epoch 4\/8 /, then: () => pgctl('stop') },
  ]);
  pgctl('start');
  assert.equal(r.code, 1, r.stderr);
  const last = r.stderr.trim().split('\n').at(-1)!;
  assert.match(last, /^exp: run \S+ \(\S+\) stopped: postgres:\/\/\S+: the PostgreSQL server has not answered for 4 s/);
  assert.match(
    last,
    /could not be marked, so the store still shows it running; .* stale .* exp run --resume \S+ --db \S+ takes it over from its checkpoint of epoch 4/,
  );
  assert.doesNotMatch(r.stderr, /stored as failed|Emitted 'error'|\n\s+at /);
  const run = (await rows('SELECT id, status FROM runs WHERE name = $1', [name]))[0]!;
  assert.equal(run.status, 'running', 'as the line says: still running in the store');
  // This host, its process gone: the lease is over at once, and --resume takes it over.
  const again = await exp(['run', '--resume', String(run.id), '--db', URL_!, '--no-dashboard'], env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /resuming from \S+epoch-0004/);
  const epochs = await rows('SELECT epoch FROM epochs WHERE run_id = $1 ORDER BY epoch', [run.id]);
  assert.deepEqual(
    epochs.map((e) => e.epoch),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.equal((await rows('SELECT status FROM runs WHERE id = $1', [run.id]))[0]!.status, 'done');
});

function sweepFile(name: string, trials: number, epochs: number): string {
  const s = sweepDir({ trials, epochs });
  const file = join(s.dir, `${name}.yaml`);
  const body = Array.from({ length: trials }, (_, i) => `  - {name: t${i}, set: {seed: ${i}}}\n`).join('');
  writeFileSync(file, `name: ${name}\nbase: base.yaml\ntrials:\n${body}`);
  return file;
}

test('exp sweep and exp worker, the server gone for good: each stops with one line and exit 1; run again, the sweep finishes, nothing twice', async () => {
  const name = `sgone-${Date.now().toString(36)}`;
  const file = sweepFile(name, 3, 6);
  const env = { ...fakeEnv(150), EXP_DB_RETRY_SECONDS: '4' };
  // One trial at a time: t0 is the one running when the server goes, so the line names it.
  const sweep = await exp(['sweep', file, '--db', URL_!, '--no-dashboard', '--concurrency', '1'], env, [
    { pattern: /t0: epoch 2\/6/, then: () => pgctl('stop') },
  ]);
  pgctl('start');
  assert.equal(sweep.code, 1, sweep.stderr);
  const last = sweep.stderr.trim().split('\n').at(-1)!;
  assert.match(
    last,
    new RegExp(
      `^exp: sweep ${name} stopped: run \\S+ \\(${name}/t0\\) stopped: postgres://\\S+: the PostgreSQL server has not answered for 4 s`,
    ),
  );
  assert.doesNotMatch(sweep.stderr, /Emitted 'error'|\n\s+at /);

  // A worker started by hand meets the same: it stops at once with one line.
  const worker = await exp(['worker', '--sweep', file, '--db', URL_!], env, [
    {
      pattern: /started run/,
      then: async () => {
        await sleep(1500);
        pgctl('stop');
      },
    },
  ]);
  pgctl('start');
  assert.equal(worker.code, 1, worker.stderr);
  assert.match(
    worker.stderr.trim().split('\n').at(-1)!,
    /^exp: worker stopped: run \S+ \(\S+\) stopped: postgres:\/\/\S+: the PostgreSQL server has not answered for 4 s/,
  );
  assert.doesNotMatch(worker.stderr, /Emitted 'error'|\n\s+at /);

  const again = await exp(['sweep', file, '--db', URL_!, '--no-dashboard'], env);
  assert.equal(again.code, 0, again.stderr);
  const runs = await rows('SELECT id, status FROM runs WHERE sweep = $1 ORDER BY trial', [name]);
  assert.deepEqual(
    runs.map((x) => x.status),
    ['done', 'done', 'done'],
  );
  for (const x of runs) {
    const e = await rows('SELECT epoch FROM epochs WHERE run_id = $1 ORDER BY epoch', [x.id]);
    assert.deepEqual(
      e.map((y) => y.epoch),
      [1, 2, 3, 4, 5, 6],
    );
  }
});
