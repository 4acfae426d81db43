import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { queryOnce } from '../fixtures/pg-client.js';
import { sweepDir, fakeEnv, runCli } from '../fixtures/sweep-env.js';

// Slurm paths that must end in a clear state with nothing lost and nothing run twice: sbatch
// refusing the array, scancel of an array pending or running, a node going down, drained or
// losing its slurmd, a time limit, a worker killed outright (what an OOM kill does), and the
// shared filesystem going read-only. Each ends with no row left running, Slurm's reason stored,
// and the same command finishing every trial once. Run by `npm run test:cluster`
// (SLURM_CONF, EXP_TEST_PG_URL); without them this file fails.
const URL_ = process.env.EXP_TEST_PG_URL;

before(() => {
  assert.ok(
    URL_ && process.env.SLURM_CONF,
    'SLURM_CONF / EXP_TEST_PG_URL are not set: run these tests with npm run test:cluster',
  );
});

const rows = (sql: string, args: unknown[] = []) => queryOnce(URL_, sql, args);

function sweep(prefix: string, trials: number, epochs = 2) {
  const name = `${prefix}-${Date.now().toString(36)}`;
  const s = sweepDir({ trials, epochs });
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, seconds = 120): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const slurmArgs = (s: { file: string; art: string }, ...more: string[]) => [
  'sweep',
  s.file,
  '--executor',
  'slurm',
  '--db',
  URL_!,
  '--artifacts',
  s.art,
  '--no-dashboard',
  ...more,
];

async function epochsOf(sweepName: string, trial: string): Promise<number[]> {
  return (
    await rows(
      'SELECT e.epoch FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.sweep = $1 AND r.trial = $2 ORDER BY e.epoch',
      [sweepName, trial],
    )
  ).map((r) => Number(r.epoch));
}

async function runOf(sweepName: string, trial: string) {
  return (
    await rows('SELECT id, status, error, pid FROM runs WHERE sweep = $1 AND trial = $2', [sweepName, trial])
  )[0] as { id: string; status: string; error: string | null; pid: number };
}

/** Every task log of the sweep, concatenated. */
function taskLogs(art: string): string {
  const dir = join(art, 'slurm');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.out'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

/** Each start of the trial in the task logs: null for a fresh start, else the checkpoint it resumed from. */
const starts = (logs: string, trial: string) =>
  [...logs.matchAll(new RegExp(`: ${trial}: started run \\S+( \\(resuming from (\\S+)\\))?`, 'g'))]
    .map((m) => m[2] ?? null)
    .sort((a, b) => (a === null ? -1 : b === null ? 1 : 0));

/** Every trial done once: epochs 1..E once each, one final average, no row left running. */
async function assertAllDone(sweepName: string, trials: number, epochs: number): Promise<void> {
  const runs = await rows('SELECT id, trial, status FROM runs WHERE sweep = $1 ORDER BY trial', [sweepName]);
  assert.deepEqual(
    runs.map((r) => r.status),
    Array(trials).fill('done'),
  );
  for (const r of runs) {
    assert.deepEqual(
      await epochsOf(sweepName, String(r.trial)),
      Array.from({ length: epochs }, (_, i) => i + 1),
    );
    const f = await rows(
      `SELECT COUNT(*)::int AS n FROM results WHERE run_id = $1 AND final = 1 AND scope = 'average'`,
      [r.id],
    );
    assert.equal(f[0]!.n, 1, `${r.trial}: one final average`);
  }
}

const node = () => spawnSync('sinfo', ['-h', '-N', '-o', '%N'], { encoding: 'utf8' }).stdout.trim().split('\n')[0]!;
const scontrol = (...args: string[]) => spawnSync('scontrol', args, { encoding: 'utf8' });
const lastLine = (text: string) => text.trim().split('\n').at(-1)!;

async function nodeIdle(): Promise<void> {
  await waitFor(
    'the node idle',
    async () => spawnSync('sinfo', ['-h', '-N', '-o', '%t'], { encoding: 'utf8' }).stdout.trim() === 'idle',
  );
}

test('scancel of the whole array while it runs: each running trial checkpoints and is interrupted with "cancelled (scancel)", nothing is submitted again; the same command resumes them, no trial runs twice', async () => {
  await nodeIdle();
  const s = sweep('runcancel', 3, 6);
  const run = runCli(slurmArgs(s, '--concurrency', '2'), fakeEnv(150));
  await waitFor('t0 past its first checkpoint', async () => (await epochsOf(s.name, 't0')).length >= 3);
  const job = String((await rows('SELECT job_id FROM sweep_jobs WHERE sweep = $1', [s.name]))[0]!.job_id);
  const c = spawnSync('scancel', [job], { encoding: 'utf8' });
  assert.equal(c.status, 0, c.stderr);
  const r = await run.done;
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    lastLine(r.stderr),
    new RegExp(
      `^exp: sweep ${s.name}: 0 done, 0 failed, 3 unfinished; Slurm job ${job} ended: cancelled \\(scancel\\): task ${job}_.*; not submitted again; run the same exp sweep again to resume$`,
    ),
  );
  const t0 = await runOf(s.name, 't0');
  assert.equal(t0.status, 'interrupted');
  assert.equal(t0.error, 'interrupted (SIGTERM; Slurm: cancelled (scancel))');
  assert.deepEqual(await rows(`SELECT trial FROM runs WHERE sweep = $1 AND status = 'running'`, [s.name]), []);
  assert.equal((await rows('SELECT job_id FROM sweep_jobs WHERE sweep = $1', [s.name])).length, 1, 'no new array');
  const status = await runCli(['sweep', 'status', s.name, '--db', URL_!], fakeEnv(10)).done;
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /t0 +interrupted .*Slurm: cancelled \(scancel\)/);
  assert.match(status.stdout, new RegExp(`job ${job} .*: ended: cancelled \\(scancel\\): task`));
  const again = await runCli(slurmArgs(s, '--concurrency', '2'), fakeEnv(30)).done;
  assert.equal(again.code, 0, again.stderr);
  await assertAllDone(s.name, 3, 6);
  const logs = taskLogs(s.art);
  const t0starts = starts(logs, 't0');
  assert.equal(t0starts.length, 2, logs);
  assert.match(t0starts[1] ?? '', /epoch-000[246]$/, 'resumed from its checkpoint');
  assert.equal(starts(logs, 't2').length, 1, 't2 never ran before the cancel, once after');
});

test('a node set DOWN mid-trial: Slurm requeues the task, the trial is interrupted "requeued by Slurm", the node resumes, the task restarts and resumes it from its checkpoint', async () => {
  await nodeIdle();
  const s = sweep('nodedown', 1, 8);
  const run = runCli(slurmArgs(s), fakeEnv(200));
  await waitFor('t0 past its first checkpoint', async () => (await epochsOf(s.name, 't0')).length >= 3);
  const down = scontrol('update', `NodeName=${node()}`, 'State=DOWN', 'Reason=exp-test-down');
  assert.equal(down.status, 0, down.stderr);
  const stopped = await waitFor('t0 interrupted', async () => {
    const t = await runOf(s.name, 't0');
    return t.status === 'interrupted' ? t : null;
  });
  assert.match(stopped.error ?? '', /^interrupted \(SIGTERM; Slurm: requeued by Slurm/);
  // ReturnToService=2 may have brought the node back already; RESUME is refused then.
  scontrol('update', `NodeName=${node()}`, 'State=RESUME');
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  await assertAllDone(s.name, 1, 8);
  const t0 = starts(taskLogs(s.art), 't0');
  assert.equal(t0.length, 2);
  assert.match(t0[1] ?? '', /epoch-000[2468]$/, 'resumed from its checkpoint');
});

test('slurmd killed and started again mid-trial: the running task goes on, every trial is done once, nothing interrupted', async () => {
  await nodeIdle();
  const s = sweep('slurmd', 2, 6);
  const run = runCli(slurmArgs(s), fakeEnv(150));
  await waitFor('t0 at epoch 2', async () => (await epochsOf(s.name, 't0')).length >= 2);
  const pidFile = join(dirname(process.env.SLURM_CONF!), 'slurmd.pid');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  process.kill(pid, 'SIGKILL');
  await sleep(3000);
  const up = spawnSync('slurmd', [], { encoding: 'utf8' });
  assert.equal(up.status, 0, up.stderr);
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  await assertAllDone(s.name, 2, 6);
  const logs = taskLogs(s.art);
  for (const t of ['t0', 't1']) assert.equal(starts(logs, t).length, 1, `${t} ran once:\n${logs}`);
  assert.doesNotMatch(logs, /interrupted/);
});

test('a drained node: the sweep says its tasks wait for drained nodes (with the reason) instead of waiting silently, and finishes once the node is resumed', async () => {
  await nodeIdle();
  const s = sweep('drain', 2, 2);
  const drain = scontrol('update', `NodeName=${node()}`, 'State=DRAIN', 'Reason=exp-test-maintenance');
  assert.equal(drain.status, 0, drain.stderr);
  try {
    let said = '';
    const run = runCli(slurmArgs(s), fakeEnv(10), {
      // Slurm's pending reason is 'Nodes required for job are DOWN, DRAINED ...' or, for a job
      // submitted after the drain, 'ReqNodeNotAvail, UnavailableNodes:<node>'; the node's own state
      // and reason (sinfo) follow either way.
      pattern: /task\(s\) pending: .*; node \S+ drain\S* \(exp-test-maintenance\)/,
      then: () => {
        said = 'yes';
        scontrol('update', `NodeName=${node()}`, 'State=RESUME');
      },
    });
    const r = await run.done;
    assert.equal(said, 'yes', r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /exp: Slurm job \d+: \d task\(s\) pending: (.*DRAINED.*|ReqNodeNotAvail.*); node \S+ drain\S* \(exp-test-maintenance\); the sweep waits until they can start/,
    );
    await assertAllDone(s.name, 2, 2);
  } finally {
    scontrol('update', `NodeName=${node()}`, 'State=RESUME');
  }
});

test('a time limit (--time 1): the trial checkpoints and is interrupted with TIMEOUT; with --resubmit 0 the sweep stops saying so; the same command without the limit resumes it', async () => {
  await nodeIdle();
  // 40 epochs x 4 steps x 600 ms: longer than Slurm's 1-minute limit plus its 30 s check interval.
  const s = sweep('timeout', 1, 40);
  const r = await runCli(slurmArgs(s, '--time', '1', '--resubmit', '0'), fakeEnv(600)).done;
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    lastLine(r.stderr),
    /; Slurm job \d+ ended: killed at its time limit \(TIMEOUT\): task \d+_0; submitted again 0 time\(s\), as --resubmit allows; run the same exp sweep again to resume$/,
  );
  const t0 = await runOf(s.name, 't0');
  assert.equal(t0.status, 'interrupted');
  assert.equal(t0.error, 'interrupted (SIGTERM; Slurm: killed at its time limit (TIMEOUT))');
  const before = await epochsOf(s.name, 't0');
  assert.ok(before.length >= 2 && before.length < 40, `${before.length} epochs before the limit`);
  const runs = await runCli(['runs', '--sweep', s.name, '--db', URL_!], fakeEnv(10)).done;
  assert.match(runs.stdout, /interrupted/);
  const again = await runCli(slurmArgs(s), fakeEnv(20)).done;
  assert.equal(again.code, 0, again.stderr);
  await assertAllDone(s.name, 1, 40);
  const t0starts = starts(taskLogs(s.art), 't0');
  assert.equal(t0starts.length, 2);
  assert.match(t0starts[1] ?? '', /epoch-00\d\d$/, 'resumed from its checkpoint');
});

test('a worker killed outright (SIGKILL, as the OOM killer does): its row is not left running, it is interrupted with how the task ended; the same command resumes it', async () => {
  await nodeIdle();
  const s = sweep('killed', 1, 6);
  const run = runCli(slurmArgs(s, '--resubmit', '0'), fakeEnv(200));
  await waitFor('t0 past its first checkpoint', async () => (await epochsOf(s.name, 't0')).length >= 3);
  process.kill((await runOf(s.name, 't0')).pid, 'SIGKILL');
  const r = await run.done;
  assert.equal(r.code, 1, r.stderr);
  const t0 = await runOf(s.name, 't0');
  assert.equal(t0.status, 'interrupted');
  assert.match(
    t0.error ?? '',
    /^interrupted: its worker's Slurm task ended \(1 ended with an error \(FAILED\)\); resumable/,
  );
  assert.match(lastLine(r.stderr), /1 unfinished/);
  const again = await runCli(slurmArgs(s), fakeEnv(20)).done;
  assert.equal(again.code, 0, again.stderr);
  await assertAllDone(s.name, 1, 6);
  const t0starts = starts(taskLogs(s.art), 't0');
  assert.equal(t0starts.length, 2);
  assert.match(t0starts[1] ?? '', /epoch-000[246]$/);
});

test('the shared artifacts filesystem goes read-only mid-sweep: the trial is interrupted (EROFS) with its checkpoint kept, the sweep stops with one line; once writable the same command finishes every trial once', async () => {
  await nodeIdle();
  const s = sweep('rofs', 2, 6);
  mkdirSync(s.art, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', s.art], { encoding: 'utf8' });
  assert.equal(m.status, 0, `mounting a tmpfs needs root: ${m.stderr}`);
  // The task logs stay writable elsewhere: a filesystem with files open for writing (Slurm keeps
  // each task's log open) cannot be remounted read-only; the run directories are what goes.
  const logs = join(dirname(s.art), 'slurm-logs');
  mkdirSync(logs);
  symlinkSync(logs, join(s.art, 'slurm'));
  try {
    const run = runCli(slurmArgs(s), fakeEnv(300));
    await waitFor('t0 past its first checkpoint', async () => (await epochsOf(s.name, 't0')).length >= 3);
    // A checkpoint being written at that instant keeps it busy for a moment.
    await waitFor(
      'the artifacts filesystem remounted read-only',
      async () => spawnSync('mount', ['-o', 'remount,ro', s.art], { encoding: 'utf8' }).status === 0,
      30,
    );
    const r = await run.done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      lastLine(r.stderr),
      /^exp: --artifacts \S+: cannot write into it: read-only file system \(EROFS\); nothing was submitted; the 2 unfinished trial\(s\) keep their checkpoints: make it writable and run the same exp sweep again$/,
    );
    const t0 = await runOf(s.name, 't0');
    assert.equal(t0.status, 'interrupted');
    assert.match(
      t0.error ?? '',
      /^interrupted: the run directory .* cannot be written: read-only file system \(EROFS\); the checkpoints it wrote are kept$/,
    );
    assert.equal((await runOf(s.name, 't1')).status, 'queued');
    const rw = spawnSync('mount', ['-o', 'remount,rw', s.art], { encoding: 'utf8' });
    assert.equal(rw.status, 0, rw.stderr);
    const again = await runCli(slurmArgs(s), fakeEnv(20)).done;
    assert.equal(again.code, 0, again.stderr);
    await assertAllDone(s.name, 2, 6);
    const all = taskLogs(s.art);
    const t0starts = starts(all, 't0');
    assert.equal(t0starts.length, 2, all);
    assert.match(
      t0starts[1] ?? '',
      /epoch-000[24]$/,
      'resumed from the checkpoint written before the filesystem went read-only',
    );
    assert.equal(starts(all, 't1').length, 1);
  } finally {
    spawnSync('umount', ['-l', s.art]);
  }
});
