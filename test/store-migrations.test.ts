import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, migrations, openDatabase, schemaVersion } from '../src/store/index.js';
import { UserError } from '../src/util/errors.js';

function tables(db: Database.Database): string[] {
  return (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>
  ).map((r) => r.name);
}

test('migration 001 creates the STRICT run tables and sets user_version 1', () => {
  const db = new Database(':memory:');
  migrate(db, migrations.slice(0, 1), ':memory:');
  assert.equal(schemaVersion(db), 1);
  assert.deepEqual(tables(db), ['checkpoints', 'epochs', 'results', 'runs', 'scores', 'sweeps']);
  for (const t of tables(db)) {
    const sql = (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(t) as { sql: string }).sql;
    assert.match(sql, /\)\s*STRICT\s*$/, `${t} is STRICT`);
  }
  // STRICT: a wrong type is refused instead of coerced.
  // STRICT: a wrong type is refused instead of coerced.
  db.pragma('foreign_keys = OFF');
  const insert = db.prepare(
    `INSERT INTO checkpoints (run_id, epoch, path, best, created_at) VALUES ('r', ?, 'p', 0, 'x')`,
  );
  insert.run(1);
  assert.throws(() => insert.run('one'), /cannot store TEXT value in INTEGER column/);
});

test('migrations are idempotent: a second pass changes nothing', () => {
  const db = new Database(':memory:');
  migrate(db, migrations, ':memory:');
  const before = tables(db);
  migrate(db, migrations, ':memory:');
  assert.deepEqual(tables(db), before);
  assert.equal(schemaVersion(db), migrations.length);
});

test('a failing migration leaves the previous version intact (one transaction each)', () => {
  const db = new Database(':memory:');
  const broken = [
    ...migrations,
    {
      version: migrations.length + 1,
      name: 'broken',
      sql: 'CREATE TABLE extra (x INTEGER) STRICT; SELECT * FROM no_such_table;',
    },
  ];
  assert.throws(() => migrate(db, broken, ':memory:'));
  assert.equal(schemaVersion(db), migrations.length);
  assert.ok(!tables(db).includes('extra'));
});

test('a store written by a newer exp is refused with a clear error', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'exp-store-')), 'exp.db');
  const db = new Database(file);
  db.pragma(`user_version = ${migrations.length + 5}`);
  db.close();
  assert.throws(
    () => openDatabase(file),
    (e: unknown) =>
      e instanceof UserError && e.message.includes(file) && e.message.includes(`version ${migrations.length + 5}`),
  );
});

test('openDatabase turns on WAL and foreign keys', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'exp-store-')), 'sub', 'exp.db');
  const db = openDatabase(file);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.ok((db.pragma('busy_timeout', { simple: true }) as number) >= 1000);
  db.close();
});
