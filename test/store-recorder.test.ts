import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExperimentConfig } from '../src/config/schema.js';
import { experimentHash } from '../src/config/hash.js';
import type { TrainEvent } from '../src/train/events.js';
import {
  openDatabase,
  getEpochs,
  getResults,
  getScores,
  getCheckpoints,
  getRun,
  resolveRun,
  listRuns,
  latestCheckpoint,
  shownStatus,
  staleReason,
  SqliteRunStore,
} from '../src/store/index.js';
import { hostname } from 'node:os';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/util/errors.js';
import { createRun } from './fixtures/sqlite-writes.js';

const config = ExperimentConfig.parse({ name: 'tiny', train: { epochs: 3 } });

function events(epochs: number[], withEval = true): TrainEvent[] {
  const out: TrainEvent[] = [
    {
      kind: 'start',
      backend: 'cpu',
      threads: 1,
      params: { total: 10, modules: { a: 10 } },
      numClasses: 2,
      trainClips: 4,
      valClips: 0,
      testClips: 4,
      stepsPerEpoch: 2,
      epochs: 3,
      startEpoch: epochs[0]!,
    },
  ];
  for (const epoch of epochs) {
    out.push({ kind: 'step', epoch, step: 1, stepsPerEpoch: 2, loss: 1, clipsPerSec: 10 });
    out.push({
      kind: 'epoch',
      epoch,
      epochs: 3,
      loss: 1 / epoch,
      terms: { cls: 1 / epoch },
      lr: 1e-4,
      clipsPerSec: 10,
      seconds: 1,
      valLoss: null,
    });
    out.push({ kind: 'checkpoint', epoch, path: `/tmp/ck/${epoch}`, best: true });
  }
  if (withEval) {
    const m = { auc: 0.9, pauc: 0.7, paucMcclish: 0.8 };
    out.push({
      kind: 'eval',
      epoch: 3,
      final: true,
      ids: { 'fan/00': { ...m, type: 'fan', id: '00' } },
      types: { fan: m },
      average: m,
      scores: [
        { path: 'a.wav', type: 'fan', id: '00', label: 0, score: 0.1 },
        { path: 'b.wav', type: 'fan', id: '00', label: 1, score: Number.NaN },
      ],
    });
    out.push({ kind: 'done', seconds: 3 });
  }
  return out;
}

/** Every event through the store's writer, then finish('done') as a session does after 'done'. */
async function recordAll(store: SqliteRunStore, runId: string, es: TrainEvent[]): Promise<void> {
  const w = store.writer(runId);
  for (const e of es) await w.record(e);
  if (es.some((e) => e.kind === 'done')) await w.finish('done');
}

test('a run records start, epochs, checkpoints, the final eval and done', async () => {
  const store = new SqliteRunStore(':memory:');
  const db = store.db;
  const run = await store.createRun({ name: 'tiny', config });
  assert.equal(run.status, 'running');
  assert.equal(run.configHash, experimentHash(config));
  assert.match(run.id, /^[0-9a-z]+-[0-9a-z]{4}$/);
  await recordAll(store, run.id, events([1, 2, 3]));
  const after = getRun(db, run.id)!;
  assert.equal(after.status, 'done');
  assert.equal(after.backend, 'cpu');
  assert.deepEqual(
    getEpochs(db, run.id).map((e) => e.epoch),
    [1, 2, 3],
  );
  assert.deepEqual(
    getCheckpoints(db, run.id).map((c) => c.best),
    [false, false, true],
    'only the latest best stays best',
  );
  const [final] = getResults(db, run.id);
  assert.equal(final!.final, true);
  assert.equal(final!.average!.paucMcclish, 0.8);
  assert.equal(final!.ids[0]!.id, '00');
  const scores = getScores(db, run.id);
  assert.equal(scores.length, 2);
  assert.ok(Number.isNaN(scores[1]!.score), 'a NaN score reads back as NaN');
});

test('replayed epochs after a resume replace rows instead of duplicating them', async () => {
  const store = new SqliteRunStore(':memory:');
  const db = store.db;
  const run = await store.createRun({ name: 'tiny', config });
  await recordAll(store, run.id, events([1, 2], false));
  await store.writer(run.id).finish('interrupted', 'interrupted (Ctrl-C)');
  assert.equal(getRun(db, run.id)!.status, 'interrupted');
  assert.equal(latestCheckpoint(db, run.id)!.epoch, 2);
  await recordAll(store, run.id, events([2, 3]));
  const eps = getEpochs(db, run.id);
  assert.deepEqual(
    eps.map((e) => e.epoch),
    [1, 2, 3],
  );
  assert.equal(db.prepare('SELECT COUNT(*) AS n FROM checkpoints WHERE run_id = ?').pluck().get(run.id), 3);
  await recordAll(store, run.id, events([3])); // a second final eval replaces the first
  assert.equal(getScores(db, run.id).length, 2);
});

test('shownStatus: a running row shows as stale once its lease runs out (old heartbeat, or a pid gone from this host), without a write', () => {
  const now = Date.now();
  const row = { status: 'running' as const, host: 'node7', pid: 4242, heartbeatAt: now - 10_000 };
  assert.equal(shownStatus(row, 300, now), 'running');
  assert.equal(staleReason(row, 300, now), null);
  const quiet = { ...row, heartbeatAt: now - 412_000 };
  assert.equal(shownStatus(quiet, 300, now), 'stale');
  assert.equal(
    staleReason(quiet, 300, now),
    'stored as running by process 4242 on node7, no heartbeat for 412 s (lease 300 s); its process is probably gone',
  );
  assert.equal(shownStatus({ ...quiet, status: 'done' }, 300, now), 'done');
  assert.equal(shownStatus({ ...row, heartbeatAt: null }, 300, now), 'stale');
  // On this host a dead pid is seen at once, a live one keeps the lease while it beats.
  const here = { ...row, host: hostname(), pid: 2 ** 22 + 12345 };
  assert.equal(shownStatus(here, 300, now), 'stale');
  assert.match(staleReason(here, 300, now)!, /which no longer exists/);
  assert.equal(shownStatus({ ...here, pid: process.pid }, 300, now), 'running');
});

test('resolveRun: id, unique prefix, latest of a name, trial name; ambiguity lists candidates', () => {
  const db = openDatabase(':memory:');
  const a = createRun(db, { name: 'tiny', config, id: 'aaaa-0001' });
  const b = createRun(db, { name: 'tiny', config, id: 'aaaa-0002' });
  db.prepare('UPDATE runs SET created_at = ? WHERE id = ?').run('2000-01-01T00:00:00.000Z', a.id);
  assert.equal(resolveRun(db, 'aaaa-0001').id, a.id);
  assert.equal(resolveRun(db, 'tiny').id, b.id, 'a name resolves to its latest run');
  assert.throws(
    () => resolveRun(db, 'aaaa'),
    (e: unknown) => e instanceof UserError && e.message.includes('aaaa-0001') && e.message.includes('aaaa-0002'),
  );
  db.prepare(
    `INSERT INTO sweeps (name, file, spec, created_at, updated_at) VALUES ('s1', 'f', '{}', 'x', 'x'), ('s2', 'f', '{}', 'x', 'x')`,
  ).run();
  createRun(db, { name: 's1/full', config, sweep: 's1', trial: 'full' });
  assert.equal(resolveRun(db, 'full').name, 's1/full');
  createRun(db, { name: 's2/full', config, sweep: 's2', trial: 'full' });
  assert.throws(
    () => resolveRun(db, 'full'),
    (e: unknown) => e instanceof UserError && /ambiguous/.test(e.message),
  );
  assert.throws(
    () => resolveRun(db, 'nope'),
    (e: unknown) => e instanceof UserError && e.message.includes('nope'),
  );
  assert.equal(listRuns(db, { sweep: 's1' }).length, 1);
});

test('deleting a run cascades to its rows (foreign keys on)', async () => {
  const store = new SqliteRunStore(':memory:');
  const db = store.db;
  const run = await store.createRun({ name: 'tiny', config });
  await recordAll(store, run.id, events([1, 2, 3]));
  db.prepare('DELETE FROM runs WHERE id = ?').run(run.id);
  for (const t of ['epochs', 'results', 'scores', 'checkpoints'])
    assert.equal(db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get(), 0, t);
});

test('resume rule (SQLite; test/cluster/pg-stale.test.ts holds PostgreSQL to the same): a stale running run is taken over, a live one refused, a done one refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'exp-resume-'));
  // Opened without the stale sweep, so the 'running' rows reach resumeRun as a crashed worker left them.
  const store = new SqliteRunStore(join(dir, 'exp.db'), { detectStale: false });
  try {
    const stale = await store.createRun({ name: 'stale', config });
    const live = await store.createRun({ name: 'live', config });
    const done = await store.createRun({ name: 'done', config, status: 'done' });
    const running = store.db.prepare(
      `UPDATE runs SET status = 'running', host = ?, pid = ?, heartbeat_at = ? WHERE id = ?`,
    );
    running.run('gone-node', 4242, Date.now() - 412_000, stale.id);
    running.run('busy-node', 4243, Date.now(), live.id);
    // The stale run's checkpoint is still on disk, so it resumes from it rather than starting over.
    const ck = join(dir, 'ck-2');
    mkdirSync(ck);
    await store.writer(stale.id).record({ kind: 'checkpoint', epoch: 2, path: ck, best: false });
    running.run('gone-node', 4242, Date.now() - 412_000, stale.id);

    await assert.rejects(
      store.resumeRun(live.id),
      (e: unknown) =>
        e instanceof UserError && /is running in process 4243 on busy-node; it cannot be resumed twice/.test(e.message),
    );
    await assert.rejects(
      store.resumeRun(done.id),
      (e: unknown) => e instanceof UserError && /is already done/.test(e.message),
    );
    await assert.rejects(
      store.resumeRun('nope'),
      (e: unknown) => e instanceof UserError && /run nope is not in/.test(e.message),
    );
    const lease = await store.resumeRun(stale.id);
    assert.equal(lease.resumeFrom, ck);
    assert.equal(lease.run.status, 'running');
    assert.equal(lease.run.pid, process.pid, "the run is now this process's");
    assert.equal(lease.run.host, hostname());
    assert.equal((await store.getRun(live.id))!.pid, 4243, 'the live run is untouched');
    // Now leased to this live process: a second resume is refused.
    await assert.rejects(
      store.resumeRun(stale.id),
      (e: unknown) => e instanceof UserError && /cannot be resumed twice/.test(e.message),
    );
  } finally {
    await store.close();
  }
});

test("a sweep trial's rows carry the hash its spec computed (the store does not hash it again)", async () => {
  const store = new SqliteRunStore(':memory:');
  try {
    const trial = { name: 't0', index: 0, hash: 'spec-hash-00001', config, paper: null };
    await store.registerSweep({
      name: 'sw',
      file: 'sw.yaml',
      profile: null,
      spec: {},
      trials: [{ ...trial, set: {} }],
    });
    assert.equal((await store.findTrialRun('sw', trial.hash))!.configHash, trial.hash);
    const other = { ...trial, name: 't1', index: 1, hash: 'spec-hash-00002' };
    const claim = await store.claimTrial({ sweep: 'sw', profile: null }, other, {
      rerunFailed: false,
      force: false,
      staleSeconds: 300,
      forceBefore: 0,
    });
    assert.equal(claim.kind, 'run');
    assert.equal(claim.run.configHash, other.hash);
  } finally {
    await store.close();
  }
});
