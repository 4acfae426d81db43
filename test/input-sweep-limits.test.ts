import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_MAX_TRIALS, loadSweep, trialCount } from '../src/sweep/spec.js';
import { UserError } from '../src/util/errors.js';
import { exp, assertOneLineUserError, tempDir } from './fixtures/faults-env.js';

/** A sweep's size is checked from its list lengths before any trial is built. */

const dir = tempDir('grid');
const BASE = resolve('experiments/fgaspecnet.yaml');
const write = (name: string, lines: string[]): string => {
  const f = join(dir, name);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
};
const list = (n: number): string => `[${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]`;

test('trialCount multiplies explicit rows, grid list lengths and seeds', () => {
  assert.equal(trialCount({ grid: { a: [1, 2, 3], b: [1, 2] } }), 6);
  assert.equal(
    trialCount(
      {
        trials: [
          { name: 'x', set: {} },
          { name: 'y', set: {} },
        ],
        grid: { a: [1, 2, 3] },
      },
      4,
    ),
    24,
  );
  assert.equal(trialCount({ trials: [{ name: 'x', set: {} }] }), 1);
  const big = trialCount({
    grid: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])),
  });
  assert.ok(Math.abs(big / 1e40 - 1) < 1e-12, String(big)); // a float product: approximate past 2^53, which is all a cap needs
});

test('a 10^6-trial grid is refused at once (exit 1, one line naming the file and the count), --dry-run included', () => {
  const f = write('million.yaml', [
    'name: million',
    `base: ${BASE}`,
    'grid:',
    `  seed: ${list(1000)}`,
    `  train.epochs: ${list(1000)}`,
  ]);
  const r = exp(['sweep', f, '--dry-run', '--db', join(dir, 'exp.db')], { timeoutMs: 30_000 });
  assertOneLineUserError(
    r,
    new RegExp(
      `million\\.yaml: the sweep expands to 1000000 trials \\(grid seed 1000 x train\\.epochs 1000\\), over the limit of ${DEFAULT_MAX_TRIALS} \\(the default\\); raise it with --max-trials`,
    ),
    '10^6 grid',
  );
  assert.equal(r.stdout, '', 'nothing listed');
  // 10^40: the product is computed from the sizes, never expanded.
  const huge = write('huge.yaml', [
    'name: huge',
    `base: ${BASE}`,
    'grid:',
    ...Array.from({ length: 40 }, (_, i) => `  x-${i}: ${list(10)}`),
  ]);
  assert.throws(
    () => loadSweep(huge),
    (e: unknown) => e instanceof UserError && /expands to 1\.00e\+40 trials/.test(e.message),
  );
});

test('--max-trials and maxTrials: raise or lower the limit; the flag wins over the file', () => {
  const twelve = ['name: twelve', `base: ${BASE}`, 'grid:', `  seed: ${list(4)}`, `  train.epochs: ${list(3)}`];
  const f = write('twelve.yaml', twelve);
  assert.equal(loadSweep(f).trials.length, 12);
  assert.throws(
    () => loadSweep(f, { maxTrials: 11 }),
    (e: unknown) => e instanceof UserError && /12 trials .* over the limit of 11 \(--max-trials\)/.test(e.message),
  );
  assert.throws(
    () => loadSweep(f, { maxTrials: 6, seeds: [1, 2] }),
    (e: unknown) => e instanceof UserError && /24 trials \(grid seed 4 x train\.epochs 3 x 2 seeds\)/.test(e.message),
  );
  const capped = write('capped.yaml', [...twelve, 'maxTrials: 10']);
  assert.throws(
    () => loadSweep(capped),
    (e: unknown) => e instanceof UserError && /over the limit of 10 \(maxTrials in the file\)/.test(e.message),
  );
  assert.equal(loadSweep(capped, { maxTrials: 12 }).trials.length, 12);
  const r = exp(['sweep', capped, '--dry-run', '--max-trials', '12', '--db', join(dir, 'exp.db')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trimEnd().split('\n').length, 12);
  const zero = exp(['sweep', capped, '--dry-run', '--max-trials', '0', '--db', join(dir, 'exp.db')]);
  assert.equal(zero.code, 1);
  assert.match(zero.stderr, /--max-trials expects a positive whole number/);
});

test('a grid value that would put a control character into a trial name is refused, naming the trial escaped', () => {
  const f = write('ctl.yaml', ['name: ctl', `base: ${BASE}`, 'grid:', '  model.head: ["arc\\u001b[2Jface"]']);
  assert.throws(
    () => loadSweep(f),
    (e: unknown) =>
      e instanceof UserError &&
      /ctl\.yaml: trial head=arc\\x1B\[2Jface: the name contains the control or format character U\+001B/.test(
        e.message,
      ) &&
      !e.message.includes('\x1b'),
  );
});
