import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// exp sweep hands a validated sweep to the executor --executor names (src/executor/executor.ts);
// each executor refuses what it cannot do before the sweep is even read.
const CLI = join(process.cwd(), 'dist/cli/main.js');
const exp = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, EXP_DB: '' } });

test('slurm refuses a SQLite store and --force before the sweep file is read', () => {
  const sqlite = exp('sweep', 'no-such-sweep.yaml', '--executor', 'slurm', '--db', 'runs/x.db');
  assert.equal(sqlite.status, 1, sqlite.stderr);
  assert.match(sqlite.stderr, /--executor slurm needs a store every node can reach/);
  const forced = exp(
    'sweep',
    'no-such-sweep.yaml',
    '--executor',
    'slurm',
    '--db',
    'postgres://u@127.0.0.1:1/x',
    '--force',
  );
  assert.equal(forced.status, 1, forced.stderr);
  assert.match(forced.stderr, /--force and --rerun-failed are not supported with --executor slurm yet/);
  assert.doesNotMatch(forced.stderr, /no-such-sweep/);
});

test('local reads the sweep (the same missing file is reported), and an unknown executor is refused by name', () => {
  const local = exp('sweep', 'no-such-sweep.yaml', '--db', 'runs/x.db');
  assert.equal(local.status, 1, local.stderr);
  assert.match(local.stderr, /no-such-sweep/);
  const other = exp('sweep', 'ablation', '--executor', 'kubernetes');
  assert.equal(other.status, 1, other.stderr);
  assert.match(other.stderr, /--executor expects one of local, slurm, got "kubernetes"/);
});
