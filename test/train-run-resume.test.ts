import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { killRunAtEpoch } from './fixtures/kill-run.js';
import { synthTinySet } from './fixtures/experiment.js';
import { trainRunEnv } from './fixtures/train-run-env.js';

// End to end through the real CLI (the full FGASpecNet on a tiny synthetic set, as in
// train-run.test.ts): the same config and seed give the same scores, and a run killed with -9 and
// resumed gives them too. One uninterrupted run of the experiment is the reference of both tests.
const { dir, data, db, exp, experiment, storedEpochs, finalScores } = trainRunEnv('exp-train-resume-');

before(() => synthTinySet(data));

let reference: string | null = null;
/** The id of one uninterrupted run of experiment 'det', trained on first use. */
function uninterrupted(): string {
  if (reference === null) {
    const r = exp(['run', experiment('det'), '--db', db, '--json', '--backend', 'wasm']);
    assert.equal(r.status, 0, r.stderr);
    reference = (JSON.parse(r.stdout) as { id: string }).id;
  }
  return reference;
}

test('same config and seed give the same scores', () => {
  const a = uninterrupted();
  const b = JSON.parse(exp(['run', experiment('det'), '--db', db, '--json', '--backend', 'wasm']).stdout) as {
    id: string;
  };
  assert.deepEqual(finalScores(a), finalScores(b.id));
});

test('kill -9 mid-run: the run shows stale, --resume finishes it with the same scores as an uninterrupted run', async () => {
  const file = experiment('det');
  const { runId, stderr } = await killRunAtEpoch(file, { db, cwd: dir, name: 'det', epoch: '2/3' });
  assert.ok(runId, stderr);
  // The PID is gone: reading commands show the run stale (derived at read; the row is not rewritten).
  const list = exp(['runs', '--db', db, '--json']);
  const listed = (JSON.parse(list.stdout) as Array<{ id: string; status: string; stale?: boolean }>).find(
    (x) => x.id === runId,
  );
  assert.deepEqual([listed?.status, listed?.stale], ['running', true]);
  // Starting over would reach the same scores too (same seed): epoch 1's row, with the time the
  // killed process measured for it, must come through the resume unchanged, i.e. not retrained.
  const epochOne = () => {
    const d = new Database(db, { readonly: true });
    const row: unknown = d.prepare('SELECT * FROM epochs WHERE run_id = ? AND epoch = 1').get(runId);
    d.close();
    return row;
  };
  const stored = epochOne();
  assert.ok(stored, 'epoch 1 was stored before the kill');
  const resumed = exp(['run', '--resume', runId, '--db', db, '--json']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(epochOne(), stored, 'the resume trained epoch 1 again instead of continuing');
  assert.deepEqual(finalScores(runId), finalScores(uninterrupted()));
  const d = new Database(db, { readonly: true });
  assert.equal((d.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check, 'ok');
  assert.deepEqual(storedEpochs(d, runId), [1, 2, 3]);
  d.close();
});
