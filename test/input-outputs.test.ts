import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sweepDir, fakeEnv } from './fixtures/sweep-env.js';
import { exp, assertOneLineUserError, tempDir, mountTmpfs, canChattr, notRun } from './fixtures/faults-env.js';
import { reportStore } from './fixtures/report-store.js';
import { openDatabase } from '../src/store/index.js';
import { checkRunDirRoot } from '../src/cli/run-dirs.js';
import { UserError } from '../src/util/errors.js';

/**
 * Every place a command writes is checked before any run row exists (--artifacts, the default run
 * directory root) or before anything is drawn (report --out / --png): a refusal is one line, exit
 * 1, and the store holds no new row.
 */

const isRoot = process.getuid?.() === 0;

/** Run rows in a store (0 when the store was never created). */
function rowCount(db: string): number {
  if (!existsSync(db)) return 0;
  const d = openDatabase(db);
  try {
    return (d.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n;
  } finally {
    d.close();
  }
}

const env = sweepDir({ trials: 2, epochs: 2 });
const base = join(env.dir, 'base.yaml');
const withFake = { env: fakeEnv(5) };

function refusedEverywhere(artifacts: string, pattern: RegExp, label: string): void {
  const db = join(tempDir('rows'), 'exp.db');
  assertOneLineUserError(exp(['run', base, '--artifacts', artifacts, '--db', db], withFake), pattern, `${label}: run`);
  assertOneLineUserError(
    exp(['sweep', env.sweep, '--artifacts', artifacts, '--db', db, '--no-dashboard'], withFake),
    pattern,
    `${label}: sweep`,
  );
  assertOneLineUserError(
    exp(['worker', '--sweep', env.sweep, '--artifacts', artifacts, '--db', db], withFake),
    pattern,
    `${label}: worker`,
  );
  assert.equal(rowCount(db), 0, `${label}: no run row (not even a queued one)`);
}

test('--artifacts that is a file, under a missing directory, or under a file: refused before any run row', () => {
  const d = tempDir('art');
  writeFileSync(join(d, 'file'), 'x');
  refusedEverywhere(join(d, 'file'), /--artifacts .*file: exists and is not a directory/, 'a file');
  refusedEverywhere(join(d, 'no', 'such'), /--artifacts .*no\/such: directory .*no does not exist/, 'missing parent');
  refusedEverywhere(join(d, 'file', 'sub'), /--artifacts .*file\/sub: .*file is not a directory/, 'under a file');
});

test('--artifacts on a read-only mount: refused before any run row (root included)', (t) => {
  if (!isRoot) return notRun(t, 'mounting a read-only tmpfs needs root');
  const m = mountTmpfs('1m');
  if (!m) return notRun(t, 'mount -t tmpfs failed');
  try {
    mkdirSync(join(m.dir, 'art'));
    m.readOnly();
    refusedEverywhere(
      join(m.dir, 'art'),
      /--artifacts .*art: cannot write into it: read-only file system \(EROFS\)/,
      'read-only',
    );
    refusedEverywhere(
      join(m.dir, 'new'),
      /--artifacts .*new: cannot create a directory in .*: read-only file system \(EROFS\)/,
      'read-only parent',
    );
  } finally {
    m.unmount();
  }
});

test('--artifacts an immutable directory (chattr +i): refused before any run row, though root ignores mode bits', (t) => {
  if (!canChattr()) return notRun(t, 'chattr +i is not available here (needs root and a file system that supports it)');
  const d = join(tempDir('imm'), 'art');
  mkdirSync(d);
  execFileSync('chattr', ['+i', d]);
  try {
    refusedEverywhere(d, /--artifacts .*art: cannot write into it: operation not permitted .*\(EPERM\)/, 'immutable');
  } finally {
    execFileSync('chattr', ['-i', d]);
  }
});

test('an immutable store directory (where run directories go by default) is refused before any row; a good --artifacts is used', (t) => {
  if (canChattr()) {
    const d = join(tempDir('immdb'), 'store');
    mkdirSync(d);
    const db = join(d, 'exp.db');
    // A store directory that is immutable: the runs would have nowhere to go.
    execFileSync('chattr', ['+i', d]);
    try {
      const r = exp(['run', base, '--db', db], withFake);
      // With SQLite the run directories go beside the store, so the store's own check names it first.
      assertOneLineUserError(r, /store.*EPERM/, 'default root');
    } finally {
      execFileSync('chattr', ['-i', d]);
    }
    assert.equal(rowCount(db), 0);
  } else notRun(t, 'chattr +i is not available here');
  // A missing last directory is made (its parent exists), and the run's checkpoints land in it.
  const d = tempDir('good');
  const db = join(d, 'exp.db');
  const r = exp(['run', base, '--artifacts', join(d, 'ckpt'), '--db', db, '--quiet'], withFake);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readdirSync(join(d, 'ckpt')).length, 1, 'one run directory');
  assert.equal(rowCount(db), 1);
});

test('report --png: a missing parent is refused (only the last directory is made), an immutable one too; nothing drawn', (t) => {
  const fx = reportStore({ sweep: 'outs' });
  const missing = join(fx.dir, 'no', 'figs');
  assertOneLineUserError(
    exp(['report', fx.sweep, '--png', missing, '--db', fx.db]),
    /--png .*no\/figs: directory .*no does not exist/,
    'missing parent',
  );
  assert.ok(!existsSync(join(fx.dir, 'no')), 'no directories made');
  const made = join(fx.dir, 'figs');
  const ok = exp(['report', fx.sweep, '--png', made, '--db', fx.db]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(
    readdirSync(made).filter((f) => f.endsWith('.png')).length,
    Number(ok.stderr.match(/wrote (\d+) figures/)![1]),
  );
  if (!canChattr()) return notRun(t, 'chattr +i is not available here');
  const imm = join(fx.dir, 'imm');
  mkdirSync(imm);
  execFileSync('chattr', ['+i', imm]);
  try {
    assertOneLineUserError(
      exp(['report', fx.sweep, '--png', imm, '--db', fx.db]),
      /--png .*imm: cannot write into it: .*EPERM/,
      'immutable --png',
    );
    assertOneLineUserError(
      exp(['report', fx.sweep, '--png', join(imm, 'sub'), '--db', fx.db]),
      /--png .*imm\/sub: cannot create a directory in .*imm: .*EPERM/,
      'under immutable',
    );
  } finally {
    execFileSync('chattr', ['-i', imm]);
  }
});

test('--out never replaces a symbolic link, dangling or not; exports follow the same rule', () => {
  const fx = reportStore({ sweep: 'links' });
  const dangling = join(fx.dir, 'dangling.html');
  symlinkSync(join(fx.dir, 'nowhere', 'target.html'), dangling);
  assertOneLineUserError(
    exp(['report', fx.sweep, '--out', dangling, '--db', fx.db]),
    /--out .*dangling\.html: is a symbolic link; exp does not replace it/,
    'dangling',
  );
  assert.equal(readlinkSync(dangling), join(fx.dir, 'nowhere', 'target.html'), 'the link is kept');
  const real = join(fx.dir, 'real.md');
  writeFileSync(real, 'mine');
  const link = join(fx.dir, 'link.md');
  symlinkSync(real, link);
  assertOneLineUserError(
    exp(['export', fx.sweep, '--format', 'md', '--out', link, '--db', fx.db]),
    /--out .*link\.md: is a symbolic link/,
    'export --out',
  );
  assert.equal(readlinkSync(link), real);
});

test('with a PostgreSQL store the default run directories go under runs/ here: checked the same way', () => {
  const d = tempDir('pgroot');
  writeFileSync(join(d, 'runs'), 'not a directory');
  const cwd = process.cwd();
  process.chdir(d);
  try {
    assert.throws(
      () => checkRunDirRoot('postgres://exp@db.example:5432/exp', undefined),
      (e: unknown) =>
        e instanceof UserError &&
        /^run directories \(give --artifacts DIR for another place\) in runs: exists and is not a directory$/.test(
          e.message,
        ),
    );
    assert.doesNotThrow(() => checkRunDirRoot('postgres://exp@db.example:5432/exp', join(d, 'elsewhere')));
  } finally {
    process.chdir(cwd);
  }
});
