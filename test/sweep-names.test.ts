import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSweep } from '../src/sweep/spec.js';
import { UserError } from '../src/util/errors.js';

test('a misspelt registry name in any trial fails the whole sweep before it starts, naming file, trial and key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exp-sweep-names-'));
  writeFileSync(join(dir, 'base.yaml'), 'name: base\n');
  const file = join(dir, 's.yaml');
  writeFileSync(
    file,
    'name: s\nbase: base.yaml\ntrials:\n  - name: fine\n    set: {}\n  - name: typo\n    set: {loss.metric.name: softriple}\n',
  );
  assert.throws(
    () => loadSweep(file),
    (e: unknown) =>
      e instanceof UserError &&
      /trial typo/.test(e.message) &&
      /loss\.metric\.name/.test(e.message) &&
      /softtriple/.test(e.message),
  );
});
