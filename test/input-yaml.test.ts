import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadExperiment, MAX_YAML_BYTES } from '../src/config/load.js';
import { loadSweep } from '../src/sweep/spec.js';
import { UserError } from '../src/util/errors.js';
import { exp, assertOneLineUserError, tempDir } from './fixtures/faults-env.js';

/** YAML input: one line naming file (and line:column) for every problem; merge keys work. */

const dir = tempDir('yaml');
const write = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const BASE = resolve('experiments/fgaspecnet.yaml');

/** Nine aliases per level, six levels: 9^6 = 531441 nodes from a 300-byte file ("billion laughs"). */
const BOMB = [
  'a: &a [x,x,x,x,x,x,x,x,x]',
  ...['b', 'c', 'd', 'e', 'f'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcde'[i]}`).join(',')}]`),
  'g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  '',
].join('\n');

test('an alias bomb is exit 1 naming the file, in experiment and sweep YAML and as a sweep base', () => {
  const bomb = write('bomb.yaml', BOMB);
  assertOneLineUserError(exp(['params', bomb]), /bomb\.yaml: invalid YAML: .*alias/i, 'params');
  assertOneLineUserError(exp(['run', bomb, '--db', join(dir, 'x.db')]), /bomb\.yaml: invalid YAML: .*alias/i, 'run');
  assertOneLineUserError(
    exp(['sweep', bomb, '--db', join(dir, 'x.db'), '--dry-run']),
    /bomb\.yaml: invalid YAML: .*alias/i,
    'sweep',
  );
  const sweep = write('bomb-base.yaml', `name: bb\nbase: bomb.yaml\ntrials:\n  - name: a\n`);
  assertOneLineUserError(
    exp(['sweep', sweep, '--db', join(dir, 'x.db'), '--dry-run']),
    /bomb\.yaml: invalid YAML/,
    'sweep base',
  );
});

test('syntax errors are one line: file:line:column', () => {
  const f = write('syntax.yaml', 'name: x\ntrain:\n  epochs: [1, 2\n  lr: 3\n');
  assertOneLineUserError(exp(['params', f]), /syntax\.yaml:4:3: invalid YAML: \S/, 'flow sequence');
  const tab = write('tab.yaml', 'name: x\n\tseed: 1\n');
  assertOneLineUserError(exp(['params', tab]), /tab\.yaml:2:1: invalid YAML: Tabs/, 'tab');
  const dup = write('dup.yaml', 'seed: 1\nseed: 2\n');
  assertOneLineUserError(exp(['params', dup]), /dup\.yaml:2:1: invalid YAML: .*unique/i, 'duplicate key');
  // Several schema problems: still one line.
  const keys = write('keys.yaml', 'trian: {}\nmodle: {}\nseed: x\n');
  assertOneLineUserError(exp(['params', keys]), /keys\.yaml: .*trian.*modle|keys\.yaml: .*seed.*; /, 'several issues');
});

test('a YAML file over the size limit is refused before it is parsed', () => {
  const big = write('big.yaml', `# ${'x'.repeat(MAX_YAML_BYTES)}\nseed: 1\n`);
  assertOneLineUserError(exp(['params', big]), /big\.yaml: \d+ bytes is too large/, 'big');
});

test('merge keys (<<: *anchor) work in experiment and sweep YAML; x- top-level keys hold anchors', () => {
  const e = write('merge.yaml', 'x-fast: &fast\n  epochs: 2\n  lr: 0.01\ntrain:\n  <<: *fast\n  batchSize: 4\n');
  const c = loadExperiment(e);
  assert.equal(c.train.epochs, 2);
  assert.equal(c.train.lr, 0.01);
  assert.equal(c.train.batchSize, 4);
  // A key given beside the merge wins over the merged one (YAML merge-key semantics).
  const o = loadExperiment(
    write('merge2.yaml', 'train: &t {epochs: 3, lr: 0.5}\nx-more:\n  <<: *t\ndata:\n  seconds: 1\n'),
  );
  assert.equal(o.train.epochs, 3);
  const s = write(
    'merge-sweep.yaml',
    [
      `name: msw`,
      `base: ${BASE}`,
      `x-quick: &quick {train.epochs: 1, train.batchSize: 4}`,
      'trials:',
      '  - name: a',
      '    set: {<<: *quick, seed: 1}',
      '  - name: b',
      '    set:',
      '      <<: *quick',
      '      seed: 2',
      '      train.epochs: 5',
      '',
    ].join('\n'),
  );
  const sweep = loadSweep(s);
  assert.deepEqual(
    sweep.trials.map((t) => [t.config.train.epochs, t.config.train.batchSize, t.config.seed]),
    [
      [1, 4, 1],
      [5, 4, 2],
    ],
  );
  assert.throws(
    () => loadExperiment(write('unknown.yaml', 'base: &b {epochs: 1}\ntrain: {<<: *b}\n')),
    (err: unknown) => err instanceof UserError && /unknown key base$/.test(err.message),
  );
});
