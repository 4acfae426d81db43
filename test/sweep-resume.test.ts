import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepDir, fakeEnv, runCli } from './fixtures/sweep-env.js';
import { pidAlive } from '../src/store/stale.js';

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('kill -9 mid-sweep, then the same command: each trial done once, epochs complete and unique, no orphan workers', async () => {
  const { sweep, db } = sweepDir({ trials: 3, epochs: 6 });
  const env = fakeEnv(30);
  let workers: number[] = [];
  // Kill while the second trial is past its first checkpoint (epoch 3 of 6); one trial at a time,
  // so the first is done by then and the third not started.
  const first = runCli(['sweep', sweep, '--db', db, '--no-dashboard', '--concurrency', '1'], env, {
    pattern: /\[2\/3\] t1: epoch 3\/6/,
    then: (child) => {
      workers = childPids(child.pid!);
      child.kill('SIGKILL');
    },
  });
  const r1 = await first.done;
  assert.equal(r1.signal, 'SIGKILL', r1.stderr);
  assert.ok(workers.length >= 1, 'a worker was running');
  for (let i = 0; i < 30 && workers.some(pidAlive); i++) await sleep(100);
  assert.deepEqual(workers.filter(pidAlive), [], 'workers exit when the orchestrator dies');

  const before = new Database(db, { readonly: true });
  const t0 = before.prepare(`SELECT id, started_at, status FROM runs WHERE trial = 't0'`).get() as {
    id: string;
    started_at: string;
    status: string;
  };
  assert.equal(t0.status, 'done');
  const epochsBefore = before
    .prepare(`SELECT COUNT(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.trial = 't1'`)
    .pluck()
    .get() as number;
  before.close();
  assert.ok(epochsBefore >= 3, `t1 had recorded ${epochsBefore} epochs before the kill`);

  const r2 = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], env).done;
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /1 already done/);
  assert.match(r2.stderr, /t1: started \(resuming from its last checkpoint\)/);
  assert.doesNotMatch(r2.stderr, /t0: started/, 'the finished trial is not run again');

  const d = new Database(db, { readonly: true });
  assert.equal(d.pragma('integrity_check', { simple: true }), 'ok');
  const runs = d.prepare(`SELECT id, trial, status, started_at FROM runs ORDER BY trial`).all() as Array<{
    id: string;
    trial: string;
    status: string;
    started_at: string;
  }>;
  assert.deepEqual(
    runs.map((r) => [r.trial, r.status]),
    [
      ['t0', 'done'],
      ['t1', 'done'],
      ['t2', 'done'],
    ],
  );
  assert.equal(runs[0]!.started_at, t0.started_at, 't0 was not restarted');
  for (const r of runs) {
    const epochs = d.prepare('SELECT epoch FROM epochs WHERE run_id = ? ORDER BY epoch').pluck().all(r.id);
    assert.deepEqual(epochs, [1, 2, 3, 4, 5, 6], `${r.trial} epochs`);
    assert.equal(
      d
        .prepare('SELECT COUNT(*) FROM results WHERE run_id = ? AND final = 1 AND scope = ?')
        .pluck()
        .get(r.id, 'average'),
      1,
    );
    assert.equal(d.prepare('SELECT COUNT(*) FROM scores WHERE run_id = ? AND final = 1').pluck().get(r.id), 64);
  }
  // The resumed trial's replayed epochs carry the same numbers as an uninterrupted run would (the fake is deterministic).
  const losses = d
    .prepare(`SELECT e.loss FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.trial = 't1' ORDER BY epoch`)
    .pluck()
    .all() as number[];
  losses.forEach((l, i) =>
    assert.ok(Math.abs(l - (10 / (i + 2) + (losses[0]! - 10 / 2))) < 1e-9, `epoch ${i + 1} loss`),
  );
  d.close();
});

test('Ctrl-C (SIGINT) stops cleanly with exit 130, the running trial interrupted and resumable', async () => {
  const { sweep, db } = sweepDir({ trials: 2, epochs: 6 });
  const env = fakeEnv(30);
  // One trial at a time: the second is still queued when the first is stopped.
  const r1 = await runCli(['sweep', sweep, '--db', db, '--no-dashboard', '--concurrency', '1'], env, {
    pattern: /\[1\/2\] t0: epoch 3\/6/,
    then: (c) => c.kill('SIGINT'),
  }).done;
  assert.equal(r1.code, 130, r1.stderr);
  const d = new Database(db, { readonly: true });
  const rows = d.prepare('SELECT trial, status FROM runs ORDER BY trial').all() as Array<{
    trial: string;
    status: string;
  }>;
  assert.deepEqual(rows, [
    { trial: 't0', status: 'interrupted' },
    { trial: 't1', status: 'queued' },
  ]);
  d.close();
  const r2 = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], env).done;
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /t0: started \(resuming/);
});

test('concurrency 2 with a second process reading the store: no "database is locked", two trials at once', async () => {
  const { sweep, db } = sweepDir({ trials: 4, epochs: 4 });
  const run = runCli(['sweep', sweep, '--db', db, '--no-dashboard', '--concurrency', '2'], fakeEnv(15));
  let finished = false;
  let maxRunning = 0;
  let reads = 0;
  void run.done.then(() => (finished = true));
  // Wait for the file, then read continuously from this (separate) process while the sweep writes.
  while (!finished) {
    try {
      const r = new Database(db, { readonly: true, fileMustExist: true });
      r.pragma('busy_timeout = 5000');
      try {
        while (!finished) {
          const n = r.prepare(`SELECT COUNT(*) FROM runs WHERE status = 'running'`).pluck().get() as number;
          r.prepare('SELECT COUNT(*) FROM epochs').pluck().get();
          maxRunning = Math.max(maxRunning, n);
          reads++;
          await sleep(5);
        }
      } finally {
        r.close();
      }
    } catch (e) {
      if (!/unable to open|does not exist|no such table/.test(String(e))) throw e;
      await sleep(20);
    }
  }
  const res = await run.done;
  assert.equal(res.code, 0, res.stderr);
  assert.doesNotMatch(res.stderr, /locked|busy/i);
  assert.ok(reads > 20, `reader ran (${reads} reads)`);
  assert.equal(maxRunning, 2, 'two trials ran at the same time');
  const d = new Database(db, { readonly: true });
  assert.equal(d.prepare(`SELECT COUNT(*) FROM runs WHERE status = 'done'`).pluck().get(), 4);
  assert.equal(d.prepare('SELECT COUNT(*) FROM epochs').pluck().get(), 16);
  d.close();
});

test('two orchestrators on the same sweep never train the same trial twice', async () => {
  const { sweep, db } = sweepDir({ trials: 4, epochs: 3 });
  // The barrier holds each orchestrator's first trial until two trials are running, so the second
  // orchestrator (started once the first has taken a trial) races however slowly it starts. Each
  // runs one trial at a time: with two, the first orchestrator alone would fill the barrier.
  const barrier = mkdtempSync(join(tmpdir(), 'exp-barrier-'));
  const env = { ...fakeEnv(20), EXP_FAKE_BARRIER: barrier };
  let b: ReturnType<typeof runCli> | undefined;
  let aDone!: ReturnType<typeof runCli>['done'];
  await new Promise<void>((res) => {
    aDone = runCli(['sweep', sweep, '--db', db, '--no-dashboard', '--concurrency', '1'], env, {
      pattern: /t\d: started/,
      then: () => {
        b = runCli(['sweep', sweep, '--db', db, '--no-dashboard', '--concurrency', '1'], env);
        res();
      },
    }).done;
  });
  const [ra, rb] = await Promise.all([aDone, b!.done]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  const started = (s: string) => [...s.matchAll(/\] (t\d): started/g)].map((m) => m[1]);
  const both = [...started(ra.stderr), ...started(rb.stderr)];
  assert.equal(new Set(both).size, both.length, `no trial started twice: ${both.join(' ')}`);
  // Without these the test passes when one orchestrator simply does everything: no race at all.
  assert.ok(started(ra.stderr).length >= 1, `the first orchestrator took a trial:\n${ra.stderr}`);
  assert.ok(started(rb.stderr).length >= 1, `the second orchestrator took a trial:\n${rb.stderr}`);
  assert.equal(both.length, 4, `every trial started exactly once: ${both.join(' ')}`);
  const d = new Database(db, { readonly: true });
  assert.equal(d.prepare(`SELECT COUNT(*) FROM runs WHERE status = 'done'`).pluck().get(), 4);
  assert.equal(d.prepare('SELECT COUNT(*) FROM epochs').pluck().get(), 12);
  d.close();
});
