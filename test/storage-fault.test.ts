import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExperimentConfig } from '../src/config/schema.js';
import { runSession } from '../src/session/session.js';
import { SqliteRunStore } from '../src/store/index.js';
import { storageFault, unwritableBecause } from '../src/util/fs-errors.js';
import { canChattr } from './fixtures/faults-env.js';

// A run directory whose filesystem refuses writes (read-only, full, immutable) interrupts the
// trial, resumable, instead of failing it: the trial did nothing wrong.

test('storageFault: by errno code, or in the message of an error that crossed a process boundary', () => {
  const err = (code: string) => Object.assign(new Error(`${code}: x, open '/a'`), { code });
  assert.equal(storageFault(err('EROFS')), 'EROFS');
  assert.equal(storageFault(err('ENOSPC')), 'ENOSPC');
  assert.equal(storageFault(err('ENOENT')), null);
  assert.equal(storageFault(new Error("EDQUOT: disk quota exceeded, write '/a'")), 'EDQUOT');
  assert.equal(storageFault(new Error('loss is NaN at epoch 2')), null);
});

test('a trainer whose checkpoint write fails in an unwritable run directory: the run ends interrupted with why, not failed', async () => {
  assert.ok(canChattr(), 'chattr +i is needed (root on ext4/tmpfs-like file systems)');
  const dir = mkdtempSync(join(tmpdir(), 'exp-storage-'));
  const art = join(dir, 'art');
  mkdirSync(art);
  const store = new SqliteRunStore(join(dir, 'exp.db'), { artifacts: art });
  execFileSync('chattr', ['+i', art]);
  try {
    assert.equal(unwritableBecause(join(art, 'run-x')), 'EPERM');
    const out = await runSession({
      store,
      target: { kind: 'new', name: 'rofs', config: ExperimentConfig.parse({ name: 'rofs' }) },
      backend: 'cpu',
      // What Node's recursive mkdir reports under a directory it cannot write into: ENOENT.
      trainer: async (o) => {
        mkdirSync(join(o.runDir, 'epoch-0001'), { recursive: true });
      },
    });
    assert.equal(out.status, 'interrupted');
    const run = await store.resolveRun(out.run.id);
    assert.equal(run.status, 'interrupted');
    assert.match(
      run.error ?? '',
      /^interrupted: the run directory .* cannot be written: operation not permitted .*\(EPERM\)/,
    );
  } finally {
    execFileSync('chattr', ['-i', art]);
    await store.close();
  }
  assert.equal(unwritableBecause(join(art, 'run-x')), null);
});
