import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { openDatabase } from '../src/store/index.js';
import { reportStore } from './fixtures/report-store.js';
import { exp, canChattr } from './fixtures/faults-env.js';

/**
 * A run stored as 'running' whose process is gone shows as 'stale' in exp runs and exp show; the
 * other reading commands (compare, export, the sweep comparison) say so too instead of 'running'.
 * Readers never write (test/sqlite-stale.test.ts shows it on a writable file); here the SQLite
 * file is also made immutable, the case of a store on read-only media.
 */

const fx = reportStore({ sweep: 'stl' });
const db = openDatabase(fx.db);
const ids = db.prepare('SELECT id, trial FROM runs ORDER BY trial_index').all() as Array<{ id: string; trial: string }>;
// The first trial's process vanished mid-run: running, no live pid on this host, no heartbeat for an hour.
db.prepare(`UPDATE runs SET status = 'running', finished_at = NULL, pid = NULL, heartbeat_at = ? WHERE id = ?`).run(
  Date.now() - 3600_000,
  ids[0]!.id,
);
db.close();
const [stale, done] = [ids[0]!.id, ids[1]!.id];
// Without chattr these tests fail (never skip).
before(() => {
  assert.ok(
    canChattr(),
    'chattr +i is needed to keep the store unwritten by readers (root on ext4/tmpfs-like file systems)',
  );
  execFileSync('chattr', ['+i', fx.db]);
});
after(() => execFileSync('chattr', ['-i', fx.db]));

test('exp compare names a stale run as stale (text and JSON)', () => {
  const text = exp(['compare', stale, done, '--db', fx.db]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout.split('\n')[0]!,
    new RegExp(`^a = ${stale} \\(stl/tastgram; stale\\), b = ${done} \\(stl/full/seed=1\\)$`),
  );
  const json = JSON.parse(exp(['compare', stale, done, '--json', '--db', fx.db]).stdout) as { status: string[] };
  assert.deepEqual(json.status, ['stale', 'done']);
  const sweep = JSON.parse(exp(['compare', 'stl', '--json', '--db', fx.db]).stdout) as {
    trials: Array<{ trial: string; status: string; stale: boolean }>;
  };
  assert.deepEqual(
    sweep.trials.map((t) => [t.trial, t.status, t.stale]),
    [
      ['tastgram', 'running', true],
      ['full/seed=1', 'done', false],
      ['full/seed=2', 'done', false],
    ],
  );
  assert.match(exp(['compare', 'stl', '--db', fx.db]).stdout, /tastgram \(stale\)/);
});

test('exp export shows stale in md and csv, and stale: true in JSON (status stays the stored one, as in exp runs --json)', () => {
  const md = exp(['export', 'stl', '--format', 'md', '--db', fx.db]);
  assert.equal(md.code, 0, md.stderr);
  const row = md.stdout.split('\n').find((l) => l.includes('| tastgram |'))!;
  assert.match(row, /\| stale \|$/);
  assert.doesNotMatch(md.stdout, /\| running \|/);
  const csvRow = exp(['export', 'stl', '--format', 'csv', '--db', fx.db])
    .stdout.split('\n')
    .find((l) => l.includes('tastgram'))!;
  assert.match(csvRow, /,stale,0$/);
  const json = JSON.parse(exp(['export', 'stl', '--format', 'json', '--db', fx.db]).stdout) as Array<{
    rows: Array<{ trial: string; status: string; stale: boolean }>;
  }>;
  assert.deepEqual(
    json[0]!.rows.map((r) => [r.trial, r.status, r.stale]),
    [
      ['tastgram', 'running', true],
      ['full/seed=1', 'done', false],
      ['full/seed=2', 'done', false],
    ],
  );
  // A stale run named alone is exported too, marked.
  const loose = exp(['export', stale, '--format', 'md', '--db', fx.db]);
  assert.equal(loose.code, 0, loose.stderr);
  assert.match(loose.stdout, /\| stale \|/);
});
