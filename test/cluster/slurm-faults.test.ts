import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryOnce } from '../fixtures/pg-client.js';
import { sweepDir, fakeEnv, runCli } from '../fixtures/sweep-env.js';

// Slurm paths that must end in a clear state with nothing lost and nothing run twice: sbatch
// refusing the array, and scancel of an array still pending. Run by `npm run test:cluster`
// (SLURM_CONF, EXP_TEST_PG_URL); without them this file fails.
const URL_ = process.env.EXP_TEST_PG_URL;

before(() => {
  assert.ok(
    URL_ && process.env.SLURM_CONF,
    'SLURM_CONF / EXP_TEST_PG_URL are not set: run these tests with npm run test:cluster',
  );
});

const rows = (sql: string, args: unknown[] = []) => queryOnce(URL_, sql, args);

function sweep(prefix: string, trials: number) {
  const name = `${prefix}-${Date.now().toString(36)}`;
  const s = sweepDir({ trials, epochs: 2 });
  const file = join(s.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nbase: base.yaml\ntrials:\n${Array.from({ length: trials }, (_, i) => `  - {name: t${i}, set: {seed: ${i}}}\n`).join('')}`,
  );
  return { name, file, art: join(s.dir, 'art') };
}

test('sbatch refuses the array: one line, exit 1, no job recorded, every trial still queued; the same command with a valid option runs them once', async () => {
  const s = sweep('refused', 2);
  const args = ['sweep', s.file, '--executor', 'slurm', '--db', URL_!, '--artifacts', s.art, '--no-dashboard'];
  const r = await runCli([...args, '--partition', 'no_such_partition'], fakeEnv(10)).done;
  assert.equal(r.code, 1, r.stderr);
  const last = r.stderr.trim().split('\n').at(-1)!;
  assert.match(last, /^exp: sbatch refused the job array: .*partition/i);
  assert.doesNotMatch(r.stderr, /\n\s*sbatch: /, "sbatch's lines joined into one");
  assert.deepEqual(await rows('SELECT job_id FROM sweep_jobs WHERE sweep = $1', [s.name]), []);
  assert.deepEqual(
    (await rows('SELECT status FROM runs WHERE sweep = $1', [s.name])).map((x) => x.status),
    ['queued', 'queued'],
  );
  const ok = await runCli(args, fakeEnv(10)).done;
  assert.equal(ok.code, 0, ok.stderr);
  const runs = await rows('SELECT id, status FROM runs WHERE sweep = $1', [s.name]);
  assert.deepEqual(
    runs.map((x) => x.status),
    ['done', 'done'],
  );
  for (const x of runs)
    assert.deepEqual(
      (await rows('SELECT epoch FROM epochs WHERE run_id = $1 ORDER BY epoch', [x.id])).map((e) => e.epoch),
      [1, 2],
    );
});

test('exp sweep cancel of an array still pending: nothing ran, the job is marked cancelled; the sweep run again finishes every trial once', async () => {
  const s = sweep('pending', 2);
  const base = ['sweep', s.file, '--executor', 'slurm', '--db', URL_!, '--artifacts', s.art, '--no-dashboard'];
  // --begin keeps the tasks pending for an hour.
  const held = await runCli([...base, '--detach', '--sbatch', '--begin=now+3600'], fakeEnv(10)).done;
  assert.equal(held.code, 0, held.stderr);
  const job = String((await rows('SELECT job_id FROM sweep_jobs WHERE sweep = $1', [s.name]))[0]!.job_id);
  const squeue = spawnSync('squeue', ['-h', '-r', '-j', job, '-o', '%T'], { encoding: 'utf8' });
  assert.match(squeue.stdout, /PENDING/);
  const cancel = await runCli(['sweep', 'cancel', s.name, '--db', URL_!], fakeEnv(10)).done;
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.match(cancel.stderr, new RegExp(`scancel ${job}`));
  assert.deepEqual(
    (await rows('SELECT state FROM sweep_jobs WHERE sweep = $1', [s.name])).map((x) => x.state),
    ['cancelled'],
  );
  assert.deepEqual(
    (await rows('SELECT status FROM runs WHERE sweep = $1', [s.name])).map((x) => x.status),
    ['queued', 'queued'],
  );
  const status = await runCli(['sweep', 'status', s.name, '--db', URL_!], fakeEnv(10)).done;
  assert.match(status.stdout, new RegExp(`job ${job} .*: cancelled`));
  const again = await runCli(base, fakeEnv(10)).done;
  assert.equal(again.code, 0, again.stderr);
  const runs = await rows('SELECT id, status FROM runs WHERE sweep = $1', [s.name]);
  assert.deepEqual(
    runs.map((x) => x.status),
    ['done', 'done'],
  );
  for (const x of runs)
    assert.deepEqual(
      (await rows('SELECT epoch FROM epochs WHERE run_id = $1 ORDER BY epoch', [x.id])).map((e) => e.epoch),
      [1, 2],
    );
});
