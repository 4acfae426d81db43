import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { maskSecrets, passwordOf, withoutPassword } from '../src/util/secrets.js';
import { storeKind } from '../src/util/db-location.js';
import { CLI, sweepDir } from './fixtures/sweep-env.js';

test('maskSecrets: any scheme, user:pass@, password= in a query or libpq keywords, quoted or not, inside free text', () => {
  const cases: Array<[string, string]> = [
    ['postgres://u:SECRET@h/db', 'postgres://u:***@h/db'],
    ['postgress://u:SECRET@h/db', 'postgress://u:***@h/db'],
    ['mysql://u:SECRET@h/db', 'mysql://u:***@h/db'],
    ['redis://:SECRET@h:6379', 'redis://:***@h:6379'],
    [
      'exp: copy x.db -> postgres://u:SE@CRET@h:5432/db failed: boom',
      'exp: copy x.db -> postgres://u:***@h:5432/db failed: boom',
    ],
    ['postgres://u@h/db?sslmode=require&password=SECRET&x=1', 'postgres://u@h/db?sslmode=require&password=***&x=1'],
    ['host=h password=SECRET dbname=x', 'host=h password=*** dbname=x'],
    ["host=h password='SE CRET' dbname=x", "host=h password='***' dbname=x"],
    ['PGPASSWORD=SECRET exp runs', 'PGPASSWORD=*** exp runs'],
    ['{"db":"postgres://u:SECRET@h/db","password":"SECRET"}', '{"db":"postgres://u:***@h/db","password":"***"}'],
    ["--db 'postgres://u:SECRET@h/db'", "--db 'postgres://u:***@h/db'"],
  ];
  for (const [text, want] of cases) assert.equal(maskSecrets(text), want, text);
  // Masked JSON is still JSON.
  assert.deepEqual(
    JSON.parse(maskSecrets(JSON.stringify({ db: 'postgres://u:S"E@h/db', password: 'x"y', note: 'password=abc' }))),
    { db: 'postgres://u:***@h/db', password: '***', note: 'password=***' },
  );
  // Nothing secret: unchanged (a user without password, paths with : and @, e-mail addresses).
  for (const s of [
    'postgres://u@h:5432/db',
    'runs/exp.db',
    '/data/my:odd@file.db',
    'mail a@b.org',
    'password authentication failed for user "u"',
  ])
    assert.equal(maskSecrets(s), s);
});

test('maskSecrets hides every password of URL characters, @ / : included, whatever the scheme (property)', () => {
  const chars = fc.constantFrom(...'abcXYZ019!#$%^&*()_+=-[]{}|;:,.?/~@');
  fc.assert(
    fc.property(
      fc.string({ unit: chars, minLength: 1, maxLength: 24 }),
      fc.constantFrom('postgres', 'postgresql', 'postgress', 'mysql', 'x+y'),
      (pw, scheme) => {
        const url = `${scheme}://user:${pw}@host.example:5432/db`;
        assert.equal(
          maskSecrets(`could not open ${url}: refused`),
          `could not open ${scheme}://user:***@host.example:5432/db: refused`,
        );
      },
    ),
  );
});

test('withoutPassword / passwordOf split a URL into what a command line may show and what goes in the environment', () => {
  assert.equal(
    withoutPassword('postgres://u:p%40ss@h:5432/db?sslmode=require'),
    'postgres://u@h:5432/db?sslmode=require',
  );
  assert.equal(passwordOf('postgres://u:p%40ss@h:5432/db'), 'p@ss');
  assert.equal(withoutPassword('postgres://u@h/db?password=x&sslmode=require'), 'postgres://u@h/db?sslmode=require');
  assert.equal(passwordOf('postgres://u@h/db?password=x'), 'x');
  assert.equal(passwordOf('postgres://u@h/db'), null);
});

test('storeKind: postgres URLs, SQLite paths; any other scheme is refused with its password masked', () => {
  assert.equal(storeKind('postgres://u@h/db'), 'postgres');
  assert.equal(storeKind('POSTGRESQL://u@h/db'), 'postgres');
  for (const p of ['runs/exp.db', './mysql://x.db', '/abs/a:b.db', ':memory:', 'C:\\runs\\exp.db'])
    assert.equal(storeKind(p), 'sqlite', p);
  for (const bad of [
    'mysql://u:SECRET@h/db',
    'postgress://u:SECRET@h/db',
    'sqlite:runs/exp.db',
    'postgres:u:SECRET@h/db',
  ]) {
    assert.throws(
      () => storeKind(bad),
      (e: Error) => /not a run store exp can open/.test(e.message) && !e.message.includes('SECRET'),
      bad,
    );
  }
});

test('a scripted session with a password in every wrong place: no output names it, no store file is created', () => {
  const s = sweepDir({ trials: 1, epochs: 2 });
  const cwd = mkdtempSync(join(tmpdir(), 'exp-secret-'));
  const exp = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', EXP_DB: '', ...env },
    });
  const sessions: Array<[string[], NodeJS.ProcessEnv?]> = [
    [['db', 'copy', 'postgres://u:SECRET@localhost/db', 'out.db']],
    [['db', 'copy', 'x.db', 'mysql://u:SECRET@h/db']],
    [['sweep', s.sweep, '--executor', 'slurm', '--db', 'postgress://u:SECRET@h/db']],
    [['runs', '--db', 'mysql://u:SECRET@h/db']],
    [['runs', '--db', 'mysql://u:SECRET@h/db', '--json']],
    [['show', 'x', '--db', 'postgres:u:SECRET@h/db']],
    [['runs'], { EXP_DB: 'postgress://u:SECRET@h/db' }],
    [['run', join(s.dir, 'base.yaml'), '--db', 'mysql://u:SECRET@h/db']],
    [['sweep', s.sweep, '--db', 'mysql://u:SECRET@h/db', '--no-dashboard']],
    [['db', 'migrate', '--db', 'mysql://u:SECRET@h/db']],
    [['worker', '--sweep', s.sweep, '--db', 'mysql://u:SECRET@h/db']],
  ];
  for (const [args, env] of sessions) {
    const r = exp(args, env);
    const what = `exp ${args.join(' ')} ${JSON.stringify(env ?? {})}`;
    assert.equal(r.status, 1, `${what}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /SECRET/, what);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line: ${r.stderr}`);
    assert.match(r.stderr, /\*\*\*/, what);
  }
  // Nothing was created in the working directory (no SQLite file named after a URL).
  assert.deepEqual(readdirSync(cwd), []);
  assert.ok(!existsSync(join(cwd, 'mysql:')));
});

test('read-only commands refuse a store path that does not exist, naming it, and create nothing', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'exp-missing-'));
  for (const args of [
    ['runs', '--db', 'typo.db'],
    ['show', 'x', '--db', 'typo.db'],
    ['export', 'x', '--format', 'csv', '--db', 'typo.db'],
    ['compare', 'a', 'b', '--db', 'typo.db'],
  ]) {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, EXP_DB: '' },
    });
    assert.equal(r.status, 1, `exp ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^exp: --db typo\.db: no run store at that path/, args.join(' '));
  }
  assert.deepEqual(readdirSync(cwd), []);
});
