import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { migrations } from '../../src/store/migrations/index.js';
import { connectPg } from '../fixtures/pg-client.js';
import { sweepDir, fakeEnv, runCli, CLI } from '../fixtures/sweep-env.js';

// Least privilege on PostgreSQL: only `exp db migrate` creates or alters tables; a role granted
// rows only runs sweeps; passwords never appear in any output. Run by `npm run test:cluster`
// (tools/cluster/test.sh), whose server makes the role exp_dml give its password (scram) while
// trusting every other local login; without EXP_TEST_PG_URL this file fails.
const URL_ = process.env.EXP_TEST_PG_URL;
const PASSWORD = 'dml-Pw-9f3c1e';
let client: pg.Client;

before(async () => {
  assert.ok(URL_, 'EXP_TEST_PG_URL is not set: run these tests with npm run test:cluster');
  client = await connectPg(URL_);
  await client
    .query(`CREATE ROLE exp_dml LOGIN PASSWORD '${PASSWORD}'`)
    .catch((e: Error) => assert.match(e.message, /already exists/));
  await client.query('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO exp_dml');
  await client.query('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO exp_dml');
  await client.query('REVOKE CREATE ON SCHEMA public FROM exp_dml, PUBLIC');
});
after(async () => {
  await client.end();
});

const dml = (url: string, password: string | null) =>
  url.replace('//postgres@', password === null ? '//exp_dml@' : `//exp_dml:${password}@`);
const otherDb = (url: string, db: string) => url.replace(/\/[^/]+$/, `/${db}`);

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', EXP_DB: '', EXP_DB_RETRY_SECONDS: '2', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: r.stdout + r.stderr };
}

test('a role that may only read and write rows runs a whole sweep and reads it back; the password is in no output', async () => {
  const name = `dml-${Date.now().toString(36)}`;
  const s = sweepDir({ trials: 2, epochs: 2 });
  const file = join(s.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nbase: base.yaml\ntrials:\n  - {name: t0, set: {seed: 0}}\n  - {name: t1, set: {seed: 1}}\n`,
  );
  const url = dml(URL_!, PASSWORD);
  const r = await runCli(['sweep', file, '--db', url, '--no-dashboard'], { ...fakeEnv(5), EXP_DB: '' }).done;
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PASSWORD));
  const rows = (await client.query(`SELECT status FROM runs WHERE sweep = $1`, [name])).rows as Array<{
    status: string;
  }>;
  assert.deepEqual(
    rows.map((x) => x.status),
    ['done', 'done'],
  );
  for (const args of [
    ['runs', '--sweep', name, '--json'],
    ['show', `${name}/t0`],
    ['sweep', 'status', name],
    ['export', name, '--format', 'csv'],
    ['db', 'migrate'],
  ]) {
    const out = cli([...args, '--db', url]);
    assert.equal(out.status, 0, `exp ${args.join(' ')}: ${out.stderr}`);
    assert.doesNotMatch(out.all, new RegExp(PASSWORD), args.join(' '));
  }
  // The password in PGPASSWORD instead of the URL (what workers get): it still logs in.
  const viaEnv = cli(['runs', '--sweep', name, '--db', dml(URL_!, null)], { PGPASSWORD: PASSWORD });
  assert.equal(viaEnv.status, 0, viaEnv.stderr);
  // A wrong password: one line, masked, exit 1.
  const wrong = cli(['runs', '--db', dml(URL_!, 'not-the-Pw-77')]);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /^exp: .*password authentication failed/);
  assert.doesNotMatch(wrong.all, /not-the-Pw-77/);
  assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
});

test('a database exp has not set up: every command but exp db migrate refuses, naming it; migrate says what it applied', async () => {
  const db = `fresh_${Date.now().toString(36)}`;
  await client.query(`CREATE DATABASE ${db}`);
  const url = otherDb(URL_!, db);
  const s = sweepDir({ trials: 1, epochs: 2 });
  for (const args of [['runs'], ['sweep', s.sweep, '--no-dashboard'], ['run', join(s.dir, 'base.yaml')]]) {
    const r = cli([...args, '--db', url], fakeEnv(5));
    assert.equal(r.status, 1, `exp ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /has no exp run store yet \(run: exp db migrate --db \S+/, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const c = await connectPg(url);
  try {
    const tables = (await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows;
    assert.deepEqual(tables, [], 'no command but migrate created a table');
    const first = cli(['db', 'migrate', '--db', url]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /created the run store at schema version \d+/);
    const again = cli(['db', 'migrate', '--db', url]);
    assert.match(again.stderr, /already at schema version \d+; nothing to apply/);
    // One migration behind: the others refuse and name the command; migrate applies exactly it.
    const v = (await c.query('SELECT version FROM schema_version')).rows[0] as { version: number };
    await c.query('UPDATE schema_version SET version = $1', [v.version - 1]);
    for (const undo of undoLastMigration()) await c.query(undo);
    const behind = cli(['runs', '--db', url]);
    assert.equal(behind.status, 1);
    assert.match(
      behind.stderr,
      new RegExp(`schema version ${v.version - 1}, this exp needs version ${v.version} \\(run: exp db migrate`),
    );
    const up = cli(['db', 'migrate', '--db', url]);
    assert.equal(up.status, 0, up.stderr);
    assert.match(
      up.stderr,
      new RegExp(`applied migration ${v.version}: schema version ${v.version - 1} -> ${v.version}`),
    );
  } finally {
    await c.end();
  }
});

/**
 * Statements that undo the newest migration's schema changes: a DROP of each table it creates and
 * of each column it adds (its data updates need no undo here, and a constraint it replaces is
 * replaced again when it is reapplied).
 */
function undoLastMigration(): string[] {
  const sql = migrations.at(-1)!.sql;
  const tables = [...sql.matchAll(/CREATE TABLE (\w+)/g)].map((m) => `DROP TABLE ${m[1]} CASCADE`);
  const columns = [...sql.matchAll(/ALTER TABLE (\w+) ADD COLUMN (\w+)/g)].map(
    (m) => `ALTER TABLE ${m[1]} DROP COLUMN ${m[2]}`,
  );
  const undo = [...tables, ...columns];
  assert.ok(undo.length > 0, 'the newest migration creates a table or adds a column');
  return undo;
}
