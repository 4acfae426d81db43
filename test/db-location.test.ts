import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dbFlag, maskPassword } from '../src/util/db-location.js';
import { reportCommand } from '../src/util/format.js';

test('maskPassword hides the password of a postgres URL, in the user part and in a password= parameter', () => {
  assert.equal(maskPassword('postgres://exp:s3cret@db:5432/exp'), 'postgres://exp:***@db:5432/exp');
  assert.equal(
    maskPassword('postgresql://exp:p%40ss@db/exp?sslmode=require'),
    'postgresql://exp:***@db/exp?sslmode=require',
  );
  assert.doesNotMatch(maskPassword('postgres://exp@db/exp?sslmode=require&password=s3cret'), /s3cret/);
  assert.match(maskPassword('postgres://exp@db/exp?password=s3cret'), /password=\*\*\*/);
  // An unescaped @ in the password, a socket directory as host.
  assert.equal(maskPassword('postgres://exp:s3@cret@db/exp'), 'postgres://exp:***@db/exp');
  assert.equal(
    maskPassword('postgres://exp:s3cret@/exp?host=/var/run/postgresql'),
    'postgres://exp:***@/exp?host=/var/run/postgresql',
  );
  // Nothing to hide: unchanged.
  for (const s of ['postgres://exp@db:5432/exp', 'runs/exp.db', '/data/my:odd@file.db', ':memory:'])
    assert.equal(maskPassword(s), s);
});

test('dbFlag: no --db for the default store ($EXP_DB, else runs/exp.db), else the location with its password masked', () => {
  const saved = process.env.EXP_DB;
  try {
    delete process.env.EXP_DB;
    assert.equal(dbFlag('runs/exp.db'), '');
    assert.equal(dbFlag(null), '');
    assert.equal(dbFlag('other.db'), ' --db other.db');
    assert.equal(dbFlag('postgres://exp:s3cret@db/exp'), " --db 'postgres://exp:***@db/exp'");
    process.env.EXP_DB = 'postgres://exp:s3cret@db/exp';
    assert.equal(dbFlag('postgres://exp:s3cret@db/exp'), '');
    // runs/exp.db is no longer the default then: the hint must name it.
    assert.equal(dbFlag('runs/exp.db'), ' --db runs/exp.db');
    assert.equal(reportCommand('sw', 'postgres://exp:s3cret@db/exp'), 'exp report sw --out sw.html');
    assert.equal(
      reportCommand('sw', 'postgres://exp:other@db/exp'),
      "exp report sw --out sw.html --db 'postgres://exp:***@db/exp'",
    );
  } finally {
    if (saved === undefined) delete process.env.EXP_DB;
    else process.env.EXP_DB = saved;
  }
});
