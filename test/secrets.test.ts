import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { maskSecrets, passwordOf, withoutPassword } from '../src/util/secrets.js';
import { LineMasker } from '../src/cli/masked-output.js';
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

/** Shell single quoting, as exp's hints and batch scripts quote an argument. */
const shellQuote = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;

test('maskSecrets: passwords with raw quotes, spaces, @ and : in URLs and libpq keyword strings', () => {
  const cases: Array<[string, string]> = [
    ["postgres://u:p'q@h/db", 'postgres://u:***@h/db'],
    ['postgres://u:p"q@h/db', 'postgres://u:***@h/db'],
    ["exp: cannot reach postgres://u:p'q@h/db: refused", 'exp: cannot reach postgres://u:***@h/db: refused'],
    [`--db ${shellQuote("postgres://u:p'q@h/db")}`, `--db 'postgres://u:***@h/db'`],
    ["host=h password='a b' dbname=x", "host=h password='***' dbname=x"],
    ["host=h password='it\\'s' dbname=x", "host=h password='***' dbname=x"],
    ['host=h password="x" dbname=x', 'host=h password="***" dbname=x'],
    ['host=h password="a \'b" dbname=x', 'host=h password="***" dbname=x'],
    ["host=h password=p'q dbname=x", 'host=h password=*** dbname=x'],
    [JSON.stringify({ c: 'host=h password="x y" z' }), JSON.stringify({ c: 'host=h password="***" z' })],
  ];
  for (const [text, want] of cases) assert.equal(maskSecrets(text), want, text);
});

test('maskSecrets hides a password of quotes, spaces, @ and : in a URL (plain, shell-quoted, JSON) and a libpq keyword string (property)', () => {
  const chars = fc.constantFrom(...'aZ9\'"@:/;,%!$&()[]{}\\ '.split(''));
  const pw = fc.string({ unit: chars, minLength: 1, maxLength: 20 }).filter((p) => /[^ ]/.test(p));
  fc.assert(
    fc.property(pw, fc.constantFrom('postgres', 'postgresql', 'postgress', 'mysql'), (p, scheme) => {
      // In a URL the password is percent-encoded where it must be (a space always); quotes, @ and : may stay raw.
      const inUrl = p.replace(/ /g, '%20');
      const url = `${scheme}://user:${inUrl}@host.example:5432/db`;
      const masked = `${scheme}://user:***@host.example:5432/db`;
      assert.equal(maskSecrets(`could not open ${url}: refused`), `could not open ${masked}: refused`);
      assert.equal(maskSecrets(`--db ${shellQuote(url)} --x`), `--db '${masked}' --x`);
      const json = maskSecrets(JSON.stringify({ db: url, n: 1 }));
      assert.deepEqual(JSON.parse(json), { db: masked, n: 1 });
      // libpq's keyword form: a value with spaces or quotes is single-quoted, \ and ' escaped.
      const kw = `host=h password='${p.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' dbname=x`;
      assert.equal(maskSecrets(kw), "host=h password='***' dbname=x");
      // Inside JSON too, unless the libpq string holds an escape (src/util/secrets.ts says why not).
      if (!/['\\\\]/.test(p)) {
        const inJson = maskSecrets(JSON.stringify({ conn: kw }));
        assert.deepEqual(JSON.parse(inJson), { conn: "host=h password='***' dbname=x" });
      }
    }),
    { numRuns: 500 },
  );
});

test('the process output masks whole lines: a password split over two or more writes is masked, the rest held until its line ends', () => {
  const url = "postgres://u:SE'CR@ET@h/db";
  fc.assert(
    fc.property(fc.array(fc.nat(url.length + 20), { maxLength: 4 }), fc.boolean(), (cuts, bytes) => {
      const text = `exp: cannot reach ${url}: refused\nnext line ${url}\n`;
      const at = [...new Set(cuts.map((c) => c % text.length))].sort((a, b) => a - b);
      const pieces = [0, ...at].map((c, i, all) => text.slice(c, all[i + 1] ?? text.length)).filter((x) => x);
      let out = '';
      const m = new LineMasker((chunk) => {
        out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        return true;
      });
      for (const piece of pieces) m.write(bytes ? Buffer.from(piece) : piece);
      m.flush();
      assert.equal(out, 'exp: cannot reach postgres://u:***@h/db: refused\nnext line postgres://u:***@h/db\n');
    }),
  );
  // A line not yet ended is held, then written masked at the end.
  let out = '';
  const m = new LineMasker((chunk) => ((out += String(chunk)), true));
  m.write('progress postgres://u:SEC');
  assert.equal(out, '');
  m.write('RET@h/db');
  m.flush();
  assert.equal(out, 'progress postgres://u:***@h/db');
});

test('a real process writing a password in pieces: masked on stdout and stderr, the unended line written at exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exp-mask-'));
  const script = join(dir, 'pieces.ts');
  writeFileSync(
    script,
    [
      `import { maskProcessOutput } from ${JSON.stringify(join(process.cwd(), 'src/cli/masked-output.ts'))};`,
      'maskProcessOutput();',
      'for (const s of [process.stdout, process.stderr]) {',
      "  s.write('url postgres://u:SE');",
      `  s.write("C'R");`,
      `  s.write(Buffer.from("ET@h/db done\\nhost=h password='a "));`,
      `  s.write("b' tail");`,
      '}',
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const out of [r.stdout, r.stderr]) {
    assert.doesNotMatch(out, /SE|CR|ET@|'a |b'/, out);
    assert.equal(out, "url postgres://u:***@h/db done\nhost=h password='***' tail");
  }
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
