import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSweep, resolveSweepFile } from '../src/sweep/spec.js';
import { parseOverride } from '../src/config/load.js';
import { ablationMarks, softTripleColumns } from '../src/report/rows.js';
import { UserError } from '../src/util/errors.js';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'exp-spec-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}
const base = 'name: tiny\ntrain: {epochs: 5}\n';
const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

test('trials: base + set + trial set + profile + --set, in that order; paper values kept', () => {
  const d = dir({
    'base.yaml': base,
    's.yaml':
      'name: s\nbase: base.yaml\nset: {train.epochs: 7, train.lr: 0.001}\nprofiles: {quick: {train.epochs: 2}}\ntrials:\n  - name: a\n    set: {train.lr: 0.01}\n    paper: {auc: 90, pauc: 80}\n  - name: b\n',
  });
  const s = loadSweep(join(d, 's.yaml'));
  assert.deepEqual(
    s.trials.map((t) => [t.name, t.config.train.epochs, t.config.train.lr]),
    [
      ['a', 7, 0.01],
      ['b', 7, 0.001],
    ],
  );
  assert.deepEqual(s.trials[0]!.paper, { auc: 90, pauc: 80 });
  const q = loadSweep(join(d, 's.yaml'), { profile: 'quick', overrides: [parseOverride('train.batchSize=8')] });
  assert.deepEqual(
    q.trials.map((t) => [t.config.train.epochs, t.config.train.batchSize]),
    [
      [2, 8],
      [2, 8],
    ],
  );
  assert.notEqual(q.trials[0]!.hash, s.trials[0]!.hash, 'the profile is part of the identity');
  assert.throws(() => loadSweep(join(d, 's.yaml'), { profile: 'slow' }), userError(/no profile "slow".*quick/));
});

test('grid: cartesian product, named by its values; crossed with trials when both are given', () => {
  const d = dir({
    'base.yaml': base,
    'g.yaml': 'name: g\nbase: base.yaml\ngrid:\n  loss.metric.K: [2, 3]\n  train.lr: [0.1, 0.2, 0.3]\n',
    'gt.yaml':
      'name: gt\nbase: base.yaml\ntrials: [{name: x, set: {seed: 1}, paper: {auc: 1, pauc: 2}}, {name: y, set: {seed: 2}}]\ngrid: {loss.metric.K: [2, 4]}\n',
  });
  const g = loadSweep(join(d, 'g.yaml'));
  assert.equal(g.trials.length, 6);
  assert.equal(g.trials[0]!.name, 'K=2,lr=0.1');
  assert.deepEqual(new Set(g.trials.map((t) => `${t.config.loss.metric!.K}/${t.config.train.lr}`)).size, 6);
  const gt = loadSweep(join(d, 'gt.yaml'));
  assert.deepEqual(
    gt.trials.map((t) => t.name),
    ['x/K=2', 'x/K=4', 'y/K=2', 'y/K=4'],
  );
  assert.equal(gt.trials[0]!.paper, null, 'a crossed row is not the paper row');
});

test('--seeds: every row once per seed, named <row>/seed=<s>, seed applied last, paper values kept; bad lists refused', async () => {
  const { parseSeeds } = await import('../src/cli/options.js');
  const d = dir({
    'base.yaml': base,
    's.yaml':
      'name: s\nbase: base.yaml\ntrials:\n  - name: a\n    set: {seed: 9, train.lr: 0.01}\n    paper: {auc: 90, pauc: 80}\n  - name: b\n',
  });
  const s = loadSweep(join(d, 's.yaml'), { seeds: [1, 2, 3], overrides: [parseOverride('seed=7')] });
  assert.deepEqual(
    s.trials.map((t) => [t.name, t.config.seed]),
    [
      ['a/seed=1', 1],
      ['a/seed=2', 2],
      ['a/seed=3', 3],
      ['b/seed=1', 1],
      ['b/seed=2', 2],
      ['b/seed=3', 3],
    ],
  );
  assert.deepEqual(
    s.trials.map((t) => t.paper?.auc ?? null),
    [90, 90, 90, null, null, null],
  );
  assert.equal(new Set(s.trials.map((t) => t.hash)).size, 6);
  assert.deepEqual(parseSeeds('1, 2,3'), [1, 2, 3]);
  for (const bad of ['', '1,x', '1,1', '-1', '1.5']) assert.throws(() => parseSeeds(bad), /--seeds/);
});

test('bad sweeps exit with errors naming the file, the key or the trial', () => {
  const d = dir({
    'base.yaml': base,
    'badkey.yaml': 'name: s\nbase: base.yaml\ntrails: []\n',
    'empty.yaml': 'name: s\nbase: base.yaml\ngrid: {}\n',
    'emptylist.yaml': 'name: s\nbase: base.yaml\ngrid: {train.lr: []}\n',
    'dup.yaml': 'name: s\nbase: base.yaml\ntrials: [{name: a}, {name: a, set: {seed: 3}}]\n',
    'badtrial.yaml': 'name: s\nbase: base.yaml\ntrials: [{name: ok}, {name: broken, set: {train.lr: fast}}]\n',
    'unknown.yaml': 'name: s\nbase: base.yaml\ntrials: [{name: typo, set: {model.widht: 3}}]\n',
    'same.yaml': 'name: s\nbase: base.yaml\ntrials: [{name: a, set: {seed: 0}}, {name: b}]\n',
    'nobase.yaml': 'name: s\nbase: missing.yaml\ntrials: [{name: a}]\n',
    'none.yaml': 'name: s\nbase: base.yaml\n',
  });
  const f = (n: string) => join(d, n);
  assert.throws(() => loadSweep(f('badkey.yaml')), userError(new RegExp(`badkey.yaml: unknown key trails`)));
  assert.throws(() => loadSweep(f('empty.yaml')), userError(/empty.yaml: grid is empty/));
  assert.throws(() => loadSweep(f('emptylist.yaml')), userError(/grid.train.lr is an empty list/));
  assert.throws(() => loadSweep(f('dup.yaml')), userError(/duplicate trial names: a/));
  assert.throws(() => loadSweep(f('badtrial.yaml')), userError(/badtrial.yaml trial broken.*train.lr/));
  assert.throws(() => loadSweep(f('unknown.yaml')), userError(/trial typo.*unknown key model.widht/));
  assert.throws(() => loadSweep(f('same.yaml')), userError(/trials a and b have the same configuration/));
  assert.throws(() => loadSweep(f('nobase.yaml')), userError(/base missing.yaml: file not found/));
  assert.throws(() => loadSweep(f('none.yaml')), userError(/no trials/));
});

test('a sweep name finds sweeps/<name>.yaml', () => {
  const d = dir({ 'sweeps/softtriple.yaml': 'x: 1\n' });
  assert.equal(resolveSweepFile('softtriple', d), join(d, 'sweeps', 'softtriple.yaml'));
  assert.equal(resolveSweepFile('softtriple.yaml', d), join(d, 'sweeps', 'softtriple.yaml'));
  assert.throws(() => resolveSweepFile('nope', d), userError(/sweep "nope": no such file/));
});

/** The shipped sweeps against a minimal base, so this runs whether or not experiments/ is complete. */
function shipped(name: string): string {
  const d = dir({ 'experiments/fgaspecnet.yaml': 'name: fgaspecnet\n' });
  mkdirSync(join(d, 'sweeps'));
  copyFileSync(join('sweeps', `${name}.yaml`), join(d, 'sweeps', `${name}.yaml`));
  return join(d, 'sweeps', `${name}.yaml`);
}

test('sweeps/ablation.yaml: the six rows of Table 3 with their check marks and paper values', () => {
  const s = loadSweep(shipped('ablation'));
  const marks = s.trials.map((t) => ablationMarks(t.config)).map((m) => [m.specnet, m.fga, m.softtriple].map(Number));
  // the paper's Table 3, row by row.
  assert.deepEqual(marks, [
    [0, 0, 0],
    [1, 0, 0],
    [0, 0, 1],
    [1, 1, 0],
    [1, 0, 1],
    [1, 1, 1],
  ]);
  assert.deepEqual(
    s.trials.map((t) => t.paper!.auc),
    [94.07, 94.42, 94.57, 94.68, 93.9, 95.04],
  );
  assert.deepEqual(
    s.trials.map((t) => t.paper!.pauc),
    [88.96, 89.15, 88.95, 89.38, 88.8, 89.68],
  );
  const full = s.trials.map((t) => t.config);
  assert.ok(
    full.every((c) => c.train.epochs === 300 && c.data.seconds === 10 && c.train.batchSize === 64),
    'no profile = the paper settings',
  );
  const quick = loadSweep(shipped('ablation'), { profile: 'quick' });
  assert.ok(quick.trials.every((t) => t.config.data.seconds < 10 && t.config.train.epochs < 300));
});

test('sweeps/softtriple.yaml: the seven rows of Table 4', () => {
  const s = loadSweep(shipped('softtriple'));
  const cols = s.trials.map((t) => Object.values(softTripleColumns(t.config)));
  assert.deepEqual(cols, [
    [0.05, 20, 0.02, 3, 0, 0.15],
    [0.1, 10, 0.02, 3, 0, 0.15],
    [0.1, 20, 0.025, 3, 0, 0.15],
    [0.1, 20, 0.02, 4, 0, 0.15],
    [0.1, 20, 0.02, 3, 0.02, 0.15],
    [0.1, 20, 0.02, 3, 0, 0.12],
    [0.1, 20, 0.02, 3, 0, 0.15],
  ]);
  assert.deepEqual(
    s.trials.map((t) => [t.paper!.auc, t.paper!.pauc]),
    [
      [94.94, 89.61],
      [94.46, 88.99],
      [94.38, 89.0],
      [93.99, 88.82],
      [90.17, 84.25],
      [93.8, 88.75],
      [95.04, 89.68],
    ],
  );
});
