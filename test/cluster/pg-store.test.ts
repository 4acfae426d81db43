import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import Database from 'better-sqlite3';
import { connectPg } from '../fixtures/pg-client.js';
import { sweepDir, fakeEnv, runCli, CLI } from '../fixtures/sweep-env.js';

// Run by `npm run test:cluster` (tools/cluster/test.sh), which starts a throwaway PostgreSQL 15
// and sets EXP_TEST_PG_URL / EXP_TEST_PG_DIR. Without them this file fails: it never passes
// without having run.
const URL_ = process.env.EXP_TEST_PG_URL;
const PG_DIR = process.env.EXP_TEST_PG_DIR;
let client: pg.Client;

before(async () => {
  assert.ok(URL_ && PG_DIR, 'EXP_TEST_PG_URL / EXP_TEST_PG_DIR are not set: run these tests with npm run test:cluster');
  client = await connectPg(URL_);
});
after(async () => {
  await client.end();
});

const rows = async (sql: string, args: unknown[] = []) =>
  (await client.query(sql, args)).rows as Array<Record<string, unknown>>;

/** A sweep whose name is unique in the shared database. */
function sweep(name: string, trials: number, epochs: number) {
  const s = sweepDir({ trials, epochs });
  const file = join(s.dir, `${name}.yaml`);
  const body = Array.from({ length: trials }, (_, i) => `  - {name: t${i}, set: {seed: ${i}}}\n`).join('');
  writeFileSync(file, `name: ${name}\nbase: base.yaml\ntrials:\n${body}`);
  return { ...s, sweep: file };
}

test('4 trials, concurrency 2, on PostgreSQL: 4 done, epochs unique, no duplicate config hash, checkpoints under --artifacts', async () => {
  const s = sweep('pg4', 4, 3);
  const r = await runCli(
    ['sweep', s.sweep, '--db', URL_!, '--artifacts', join(s.dir, 'art'), '--concurrency', '2', '--no-dashboard'],
    fakeEnv(20),
  ).done;
  assert.equal(r.code, 0, r.stderr);
  const runs = await rows(`SELECT id, status, run_dir FROM runs WHERE sweep = 'pg4' ORDER BY trial`);
  assert.deepEqual(
    runs.map((x) => x.status),
    ['done', 'done', 'done', 'done'],
  );
  for (const x of runs) assert.ok(String(x.run_dir).startsWith(join(s.dir, 'art')), String(x.run_dir));
  const dup = await rows(`SELECT config_hash FROM runs WHERE sweep = 'pg4' GROUP BY config_hash HAVING COUNT(*) > 1`);
  assert.deepEqual(dup, []);
  const ep = await rows(
    `SELECT run_id, array_agg(epoch ORDER BY epoch) AS e FROM epochs WHERE run_id IN (SELECT id FROM runs WHERE sweep = 'pg4') GROUP BY run_id`,
  );
  assert.equal(ep.length, 4);
  for (const x of ep) assert.deepEqual(x.e, [1, 2, 3]);
});

test('metrics on PostgreSQL equal those of the same sweep on a local SQLite store', async () => {
  const s = sweep('pgeq', 2, 3);
  const local = join(s.dir, 'local.db');
  const a = await runCli(['sweep', s.sweep, '--db', URL_!, '--no-dashboard'], fakeEnv(5)).done;
  const b = await runCli(['sweep', s.sweep, '--db', local, '--no-dashboard'], fakeEnv(5)).done;
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const pgScores = await rows(
    `SELECT r.trial, s.path, s.score FROM scores s JOIN runs r ON r.id = s.run_id WHERE r.sweep = 'pgeq' AND s.final = 1 ORDER BY r.trial, s.path`,
  );
  const d = new Database(local, { readonly: true });
  const liteScores = d
    .prepare(
      `SELECT r.trial, s.path, s.score FROM scores s JOIN runs r ON r.id = s.run_id WHERE r.sweep = 'pgeq' AND s.final = 1 ORDER BY r.trial, s.path`,
    )
    .all();
  d.close();
  assert.equal(pgScores.length, 2 * 64);
  assert.deepEqual(pgScores, liteScores);
});

test('two orchestrators on one sweep on PostgreSQL: every trial trained exactly once, both took trials', async () => {
  const s = sweep('pgtwo', 4, 3);
  const env = fakeEnv(60);
  // One trial at a time each: the two race for every trial, neither fills its own slots first.
  const a = runCli(['sweep', s.sweep, '--db', URL_!, '--no-dashboard', '--concurrency', '1'], env);
  const b = runCli(['sweep', s.sweep, '--db', URL_!, '--no-dashboard', '--concurrency', '1'], env);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  const started = (x: string) => [...x.matchAll(/\] (t\d): started/g)].map((m) => m[1]);
  const all = [...started(ra.stderr), ...started(rb.stderr)];
  assert.equal(new Set(all).size, all.length, `a trial started twice: ${all.join(' ')}`);
  assert.equal(all.length, 4);
  assert.ok(
    started(ra.stderr).length > 0 && started(rb.stderr).length > 0,
    `both orchestrators trained: ${started(ra.stderr)} / ${started(rb.stderr)}`,
  );
  const done = await rows(`SELECT COUNT(*)::int AS n FROM runs WHERE sweep = 'pgtwo' AND status = 'done'`);
  assert.equal(done[0]!.n, 4);
});

test('a PostgreSQL restart mid-sweep: the workers retry, the sweep finishes, no metric recorded twice', async () => {
  const s = sweep('pgrestart', 3, 6);
  const run = runCli(['sweep', s.sweep, '--db', URL_!, '--no-dashboard'], fakeEnv(40), {
    pattern: /t0: epoch 2\/6/,
    then: () => {
      const r = spawnSync('bash', ['tools/cluster/pg.sh', 'restart', PG_DIR!], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    },
  });
  const r = await run.done;
  await client.end().catch(() => undefined);
  client = await connectPg(URL_);
  assert.equal(r.code, 0, r.stderr);
  const runs = await rows(`SELECT id, status FROM runs WHERE sweep = 'pgrestart' ORDER BY trial`);
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
    const f = await rows(
      `SELECT COUNT(*)::int AS n FROM results WHERE run_id = $1 AND final = 1 AND scope = 'average'`,
      [x.id],
    );
    assert.equal(f[0]!.n, 1);
  }
});

test('exp db copy: a local store into PostgreSQL, every row once; copying again adds nothing', async () => {
  const s = sweep('pgcopy', 2, 2);
  const local = join(s.dir, 'copy.db');
  const r = await runCli(['sweep', s.sweep, '--db', local, '--no-dashboard'], fakeEnv(5)).done;
  assert.equal(r.code, 0, r.stderr);
  const first = spawnSync(process.execPath, [CLI, 'db', 'copy', local, URL_!], { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /scores\s+128 read\s+128 inserted/);
  const again = spawnSync(process.execPath, [CLI, 'db', 'copy', local, URL_!], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /runs\s+2 read\s+0 inserted/);
  const n = await rows(
    `SELECT COUNT(*)::int AS n FROM scores WHERE run_id IN (SELECT id FROM runs WHERE sweep = 'pgcopy')`,
  );
  assert.equal(n[0]!.n, 128);
  const bad = spawnSync(process.execPath, [CLI, 'db', 'copy', local, join(s.dir, 'x.db')], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /must be a postgres:\/\/ URL/);
});
