import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExperimentConfig } from '../src/config/schema.js';
import { experimentHash } from '../src/config/hash.js';
import { runSession } from '../src/session/session.js';
import { SqliteRunStore, getRun, getEpochs, listRuns, type RunStore } from '../src/store/index.js';
import type { Trainer, TrainOptions } from '../src/train/events.js';
import { UserError } from '../src/util/errors.js';

const config = ExperimentConfig.parse({ name: 'tiny', train: { epochs: 3 } });
const store = () => new SqliteRunStore(join(mkdtempSync(join(tmpdir(), 'exp-session-')), 'exp.db'));

/** A stand-in trainer: `epochs` epoch events, then a final eval and done; `at` hooks run before each epoch. */
function trainer(at: (epoch: number, t: TrainOptions) => void | Promise<void> = () => {}): Trainer {
  return async (t) => {
    await t.onEvent({
      kind: 'start',
      backend: 'cpu',
      threads: 1,
      params: { total: 1, modules: {} },
      numClasses: 2,
      trainClips: 2,
      valClips: 0,
      testClips: 2,
      stepsPerEpoch: 1,
      epochs: 3,
      startEpoch: 1,
    });
    for (let epoch = 1; epoch <= 3; epoch++) {
      await at(epoch, t);
      if (t.signal?.aborted) throw new DOMException('aborted', 'AbortError');
      await t.onEvent({
        kind: 'epoch',
        epoch,
        epochs: 3,
        loss: 1 / epoch,
        terms: {},
        lr: 1e-3,
        clipsPerSec: 1,
        seconds: 1,
        valLoss: null,
      });
    }
    const m = { auc: 0.8, pauc: 0.6, paucMcclish: 0.7 };
    await t.onEvent({ kind: 'eval', epoch: 3, final: true, ids: {}, types: { fan: m }, average: m, scores: [] });
    await t.onEvent({ kind: 'done', seconds: 1 });
  };
}

test('a session creates the run, records its events and ends it done', async () => {
  const s = store();
  const seen: string[] = [];
  const out = await runSession({
    store: s,
    target: { kind: 'new', name: 'a', config },
    trainer: trainer(),
    backend: 'cpu',
    onEvent: (e) => seen.push(e.kind),
  });
  assert.equal(out.status, 'done');
  assert.equal(getRun(s.db, out.run.id)!.status, 'done');
  assert.deepEqual(
    getEpochs(s.db, out.run.id).map((e) => e.epoch),
    [1, 2, 3],
  );
  assert.deepEqual(seen, ['start', 'epoch', 'epoch', 'epoch', 'eval', 'done']);
  await s.close();
});

test('a trainer that throws leaves the run failed with its message, never running', async () => {
  const s = store();
  const out = await runSession({
    store: s,
    target: { kind: 'new', name: 'b', config },
    trainer: trainer((e) => {
      if (e === 2) throw new Error('boom at 2');
    }),
    backend: 'cpu',
  });
  assert.equal(out.status, 'failed');
  const row = getRun(s.db, out.run.id)!;
  assert.equal(row.status, 'failed');
  assert.equal(row.error, 'boom at 2');
  await s.close();
});

test('an abort stops training and marks the run interrupted with the signal name; resume takes it back', async () => {
  const s = store();
  const ctl = new AbortController();
  const out = await runSession({
    store: s,
    target: { kind: 'new', name: 'c', config },
    trainer: trainer((e) => {
      if (e === 2) ctl.abort('SIGTERM');
    }),
    backend: 'cpu',
    signal: ctl.signal,
  });
  assert.equal(out.status, 'interrupted');
  assert.equal(getRun(s.db, out.run.id)!.error, 'interrupted (SIGTERM)');
  const again = await runSession({
    store: s,
    target: { kind: 'resume', ref: out.run.id },
    trainer: trainer(),
    backend: 'cpu',
  });
  assert.equal(again.status, 'done');
  assert.equal(again.run.id, out.run.id);
  await s.close();
});

test('a store that stops accepting writes stops the training and the run is not left running', async () => {
  const s = store();
  let epochsTrained = 0;
  // The store refuses from the second epoch on (as a full disk would), but its final update succeeds.
  const failing: RunStore = Object.assign(Object.create(s) as RunStore, {
    writer: (id: string) => {
      const w = s.writer(id);
      return {
        ...w,
        record: async (e: Parameters<typeof w.record>[0]) => {
          if (e.kind === 'epoch' && e.epoch >= 2) throw new Error('SQLITE_FULL: database or disk is full');
          return w.record(e);
        },
      };
    },
  });
  const out = await runSession({
    store: failing,
    target: { kind: 'new', name: 'd', config },
    trainer: trainer(() => {
      epochsTrained++;
    }),
    backend: 'cpu',
  });
  assert.equal(out.status, 'failed');
  assert.equal(epochsTrained, 2, 'training stopped at the failed write');
  const row = getRun(s.db, out.run.id)!;
  assert.equal(row.status, 'failed');
  assert.match(row.error!, /could not write to the store .*disk is full/);
  await s.close();
});

test('a store that cannot even end the run: the session reports it after a second try', async () => {
  const s = store();
  let finishes = 0;
  const broken: RunStore = Object.assign(Object.create(s) as RunStore, {
    writer: (id: string) => ({
      ...s.writer(id),
      finish: async () => {
        finishes++;
        throw new Error('disk I/O error');
      },
    }),
  });
  const out = await runSession({
    store: broken,
    target: { kind: 'new', name: 'e', config },
    trainer: trainer(),
    backend: 'cpu',
  });
  assert.equal(out.status, 'done');
  assert.equal(out.status === 'done' && out.finishError, 'disk I/O error');
  assert.equal(finishes, 2);
  await s.close();
});

test('preflight runs before any row exists; a refusal leaves the store empty', async () => {
  const s = store();
  const order: string[] = [];
  await assert.rejects(
    runSession({
      store: s,
      target: { kind: 'new', name: 'f', config },
      trainer: trainer(),
      backend: 'cpu',
      preflight: () => {
        order.push(`preflight rows=${listRuns(s.db).length}`);
        throw new UserError('test IDs without anomalies');
      },
    }),
    /without anomalies/,
  );
  assert.deepEqual(order, ['preflight rows=0']);
  assert.equal(listRuns(s.db).length, 0);
  const bad = ExperimentConfig.parse({ name: 'x', features: { branches: ['logmel', 'tgarm'] } });
  await assert.rejects(
    runSession({ store: s, target: { kind: 'new', name: 'g', config: bad }, trainer: trainer(), backend: 'cpu' }),
    /tgarm/,
  );
  assert.equal(listRuns(s.db).length, 0);
  await s.close();
});

test('a sweep trial: claimed once, a done trial is skipped on the next session', async () => {
  const s = store();
  const trial = { name: 't0', index: 0, hash: experimentHash(config), config, paper: null };
  const target = {
    kind: 'trial' as const,
    sweep: { sweep: 'sw', profile: null },
    trial,
    policy: { rerunFailed: false, force: false, staleSeconds: 300, forceBefore: Date.now() },
  };
  await s.registerSweep({ name: 'sw', file: 'sw.yaml', profile: null, spec: {}, trials: [{ ...trial, set: {} }] });
  const first = await runSession({ store: s, target, trainer: trainer(), backend: 'cpu' });
  assert.equal(first.status, 'done');
  const second = await runSession({ store: s, target, trainer: () => assert.fail('must not train'), backend: 'cpu' });
  assert.deepEqual([second.status, second.status === 'skipped' && second.reason], ['skipped', 'done']);
  assert.equal(listRuns(s.db).length, 1);
  await s.close();
});
