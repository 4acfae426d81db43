import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sweepDir, fakeEnv, runCli } from './fixtures/sweep-env.js';

// A run whose process was killed outright stays 'running' in a writable SQLite store: the reading
// commands show it as 'stale' and write nothing (not even to a file they could write), exactly as
// on PostgreSQL; only a resume (exp run --resume) or a sweep's claim takes it over.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rowOf(db: string, id: string) {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare('SELECT status, pid, heartbeat_at, error, finished_at FROM runs WHERE id = ?').get(id) as {
      status: string;
      pid: number | null;
      heartbeat_at: number;
      error: string | null;
      finished_at: string | null;
    };
  } finally {
    d.close();
  }
}

/** The store's content as SQLite sees it (every row of runs), and the main file's bytes. */
function snapshot(db: string): { rows: string; bytes: string } {
  const d = new Database(db, { readonly: true });
  try {
    return {
      rows: JSON.stringify(d.prepare('SELECT * FROM runs ORDER BY id').all()),
      bytes: createHash('sha256').update(readFileSync(db)).digest('hex'),
    };
  } finally {
    d.close();
  }
}

async function killedRun(): Promise<{ db: string; id: string; dir: string }> {
  const s = sweepDir({ epochs: 6 });
  const r = runCli(['run', join(s.dir, 'base.yaml'), '--db', s.db, '--no-dashboard'], fakeEnv(120));
  let id: string | null = null;
  for (let i = 0; i < 600 && id === null; i++) {
    await sleep(100);
    try {
      const d = new Database(s.db, { readonly: true });
      const row = d
        .prepare(
          `SELECT r.id FROM runs r WHERE (SELECT COUNT(*) FROM checkpoints c WHERE c.run_id = r.id) >= 1 AND r.status = 'running'`,
        )
        .get() as { id: string } | undefined;
      d.close();
      id = row?.id ?? null;
    } catch {
      // The store is being created.
    }
  }
  assert.ok(id, 'the run reached its first checkpoint');
  r.child.kill('SIGKILL');
  const end = await r.done;
  assert.equal(end.signal, 'SIGKILL');
  return { db: s.db, id, dir: s.dir };
}

test('SQLite: reading commands on a writable store show a killed run as stale and write nothing; exp run --resume takes it over', async () => {
  const { db, id, dir } = await killedRun();
  // WAL: fold the log into the main file once, so that its bytes say whether anything wrote after.
  const w = new Database(db);
  w.pragma('wal_checkpoint(TRUNCATE)');
  w.close();
  const before = rowOf(db, id);
  assert.equal(before.status, 'running');
  const snap = snapshot(db);
  const env = fakeEnv(10);
  const runs = await runCli(['runs', '--db', db], env).done;
  assert.equal(runs.code, 0, runs.stderr);
  assert.match(runs.stdout.split('\n').find((l) => l.includes(id))!, /\bstale\b/);
  const json = JSON.parse((await runCli(['runs', '--json', '--db', db], env).done).stdout) as Array<{
    id: string;
    status: string;
    stale?: boolean;
  }>;
  assert.deepEqual(
    json.filter((r) => r.id === id).map((r) => [r.status, r.stale]),
    [['running', true]],
  );
  const show = await runCli(['show', id, '--db', db], env).done;
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /stale: stored as running by process \d+ on .*which no longer exists/);
  const exported = await runCli(['export', id, '--format', 'md', '--db', db], env).done;
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /\| stale \|/);
  const compare = await runCli(['compare', id, id, '--db', db], env).done;
  assert.equal(compare.code, 0, compare.stderr);
  assert.match(compare.stdout.split('\n')[0]!, /stale/);
  const report = await runCli(['report', id, '--out', join(dir, 'r.html'), '--db', db], env).done;
  assert.equal(report.code, 0, report.stderr);
  // Nothing written: the row as it was, the file byte for byte.
  assert.deepEqual(rowOf(db, id), before);
  assert.deepEqual(snapshot(db), snap);
  // The resume is the one write that takes it over, from its checkpoint.
  const resumed = await runCli(['run', '--resume', id, '--db', db, '--no-dashboard'], env).done;
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr + resumed.stdout, /resum/i);
  const after = rowOf(db, id);
  assert.equal(after.status, 'done');
  const d = new Database(db, { readonly: true });
  const epochs = d.prepare('SELECT epoch FROM epochs WHERE run_id = ? ORDER BY epoch').pluck().all(id);
  d.close();
  assert.deepEqual(epochs, [1, 2, 3, 4, 5, 6]);
});
