import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { sweepDir, fakeEnv, CLI } from './fixtures/sweep-env.js';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

test('the real CLI under a pseudo-terminal draws the live dashboard and finishes the sweep', () => {
  const { sweep, db } = sweepDir({ trials: 2, epochs: 3 });
  const env = { ...fakeEnv(30), COLUMNS: '100', LINES: '30', TERM: 'xterm-256color' };
  delete env.CI; // the dashboard is off in CI mode
  // util-linux `script` gives the command a pty, so stdout.isTTY is true as in a real terminal.
  const cmd = `stty cols 100 rows 30; ${q(process.execPath)} ${q(CLI)} sweep ${q(sweep)} --db ${q(db)}`;
  const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  assert.match(out, /sweep tiny · 2 trials/);
  assert.match(out, /█/, 'a progress bar was drawn');
  assert.match(out, /✓ t0/);
  assert.match(out, /✓ t1/);
  assert.match(out, /2 done · 0 running · 0 queued · 0 failed/);
  // The header says how many trials run at once and why (the default, --concurrency auto).
  assert.match(out, /· \d trials? at a time(, \d threads?( each)?)? \(auto: /);
  assert.doesNotMatch(out, /\] t0: started/, 'no plain progress lines on a TTY');
  const d = new Database(db, { readonly: true });
  assert.equal(d.prepare(`SELECT COUNT(*) FROM runs WHERE status = 'done'`).pluck().get(), 2);
  d.close();
});
