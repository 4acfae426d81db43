import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { synthTinySet, writeExperiment } from './fixtures/experiment.js';

// `exp sweep` without --concurrency on a CPU backend: trials run side by side, as many as the
// cores allow (here at most the sweep's 2), with the cores shared out as threads, and it says so
// in one line. Real trainer (tfjs wasm, a tiny autoencoder on 1 s clips), real store.
const CLI = join(process.cwd(), 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'exp-auto-cc-'));
const data = join(dir, 'data');
const db = join(dir, 'runs', 'exp.db');

before(() => synthTinySet(data, { types: 'fan', train: 4, test: 2 }));

function sweepFile(name: string): string {
  const base = writeExperiment(dir, {
    name: 'tiny-ae',
    seed: 1,
    data,
    train: { epochs: 1, batchSize: 4, lr: 0.001, weightDecay: 0 },
    extra:
      'system: ae\nfeatures: {logmel: {nFft: 1024, hop: 512, nMels: 32}}\nae: {hidden: 16, layers: 2, bottleneck: 4}',
  });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nbase: ${base}\ntrials:\n  - name: a\n    set: {seed: 1}\n  - name: b\n    set: {seed: 2}\n`,
  );
  return file;
}

const exp = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, EXP_THREADS: '' } });

function threadsOf(sweep: string): number[] {
  const d = new Database(db, { readonly: true });
  const rows = d.prepare('SELECT threads FROM runs WHERE sweep = ? ORDER BY trial').pluck().all(sweep) as number[];
  d.close();
  return rows;
}

test('no --concurrency: as many trials at once as the cores allow, the cores shared out, said in one line', () => {
  const r = exp(['sweep', sweepFile('auto2'), '--db', db, '--backend', 'wasm', '--no-dashboard']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '', 'progress and the summary go to stderr');
  // The rule written out for 2 small trials: min(trials, cores) at once; threads: the cores shared
  // out (1 or 2 each); one at a time keeps the single-run default of 2.
  const cores = availableParallelism();
  const n = Math.min(2, cores);
  const threads = n > 1 ? Math.min(2, Math.floor(cores / n)) : 2;
  const plural = (k: number, w: string) => `${k} ${w}${k === 1 ? '' : 's'}`;
  const line = `${plural(n, 'trial')} at a time, ${plural(threads, 'thread')}${n > 1 ? ' each' : ''} (auto: `;
  assert.ok(r.stderr.includes(line), `expected "${line}" in:\n${r.stderr}`);
  assert.deepEqual(threadsOf('auto2'), [threads, threads], 'each trial trained with the threads announced');
  if (n === 2) assert.match(r.stderr, /started {2}\[0 done, 2 running/, 'the second trial started while the first ran');
});

test('--concurrency 1 and --concurrency auto still parse; 0 and words other than auto are refused by name', () => {
  const one = exp(['sweep', sweepFile('one'), '--db', db, '--backend', 'wasm', '--no-dashboard', '--concurrency', '1']);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stderr, /1 trial at a time, 2 threads \(--concurrency 1\)/);
  assert.doesNotMatch(one.stderr, /2 running/, 'one trial at a time');
  assert.deepEqual(threadsOf('one'), [2, 2]);
  const dry = exp(['sweep', sweepFile('dry'), '--db', db, '--concurrency', 'auto', '--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  for (const bad of ['0', 'many', '1.5']) {
    const r = exp(['sweep', sweepFile('bad'), '--db', db, '--concurrency', bad]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`--concurrency expects a positive whole number or auto, got "${bad.replace('.', '\\.')}"`),
    );
  }
});
