import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ExperimentConfig } from '../src/config/schema.js';
import { SqliteRunStore } from '../src/store/sqlite-store.js';
import type { NewDecision } from '../src/store/rungs.js';

const config = ExperimentConfig.parse({ name: 'tiny', train: { epochs: 3 } });

async function storeWithRuns(n: number): Promise<{ store: SqliteRunStore; file: string; ids: string[] }> {
  const file = join(mkdtempSync(join(tmpdir(), 'exp-rungs-')), 'exp.db');
  const store = new SqliteRunStore(file);
  await store.registerSweep({ name: 's', file: 's.yaml', profile: null, spec: {}, trials: [] });
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push(
      (
        await store.createRun({
          name: `s/t${i}`,
          config: { ...config, seed: i },
          sweep: 's',
          trial: `t${i}`,
          trialIndex: i,
          status: 'queued',
        })
      ).id,
    );
  return { store, file, ids };
}

const pause = (unit: number, rung: number): NewDecision => ({
  unit,
  unitName: `t${unit}`,
  rung,
  action: 'pause',
  reason: 'r',
  basis: { value: 1, n: 1, rank: 1 },
});

test('rung results and the decisions they lead to are stored in one transaction, in order, and survive reopening', async () => {
  const { store, file, ids } = await storeWithRuns(2);
  const seen: number[] = [];
  const d1 = await store.recordRungs(
    's',
    [{ runId: ids[0]!, unit: 0, rung: 1, metric: 'valLoss', value: 0.5 }],
    (t) => {
      seen.push(t.results.length);
      return [pause(0, 1)];
    },
  );
  assert.deepEqual(
    d1.map((d) => d.seq),
    [1],
  );
  const d2 = await store.recordRungs(
    's',
    [{ runId: ids[1]!, unit: 1, rung: 1, metric: 'valLoss', value: Number.NaN }],
    (t) => {
      seen.push(t.results.length);
      return [
        { ...pause(0, 1), action: 'promote' },
        { ...pause(1, 1), action: 'stop' },
      ];
    },
  );
  assert.deepEqual(
    d2.map((d) => d.seq),
    [2, 3],
  );
  // decide() sees the table including the rows being recorded.
  assert.deepEqual(seen, [1, 2]);
  await store.close();
  const again = new SqliteRunStore(file);
  const t = await again.rungTable('s');
  assert.deepEqual(
    t.results.map((r) => [r.unit, r.rung, r.value]),
    [
      [0, 1, 0.5],
      [1, 1, null],
    ],
  );
  assert.deepEqual(
    t.decisions.map((d) => [d.seq, d.unit, d.action]),
    [
      [1, 0, 'pause'],
      [2, 0, 'promote'],
      [3, 1, 'stop'],
    ],
  );
  assert.deepEqual(t.decisions[0]!.basis, { value: 1, n: 1, rank: 1 });
  // Recording a result again (a replay after a kill) adds nothing.
  await again.recordRungs('s', [{ runId: ids[0]!, unit: 0, rung: 1, metric: 'valLoss', value: 0.7 }], () => []);
  assert.equal((await again.rungTable('s')).results.find((r) => r.unit === 0)!.value, 0.5);
  await again.close();
});

test('a decide() that throws leaves neither the result nor any decision', async () => {
  const { store, ids } = await storeWithRuns(1);
  await assert.rejects(
    store.recordRungs('s', [{ runId: ids[0]!, unit: 0, rung: 1, metric: 'valLoss', value: 0.5 }], () => {
      throw new Error('killed mid-decision');
    }),
  );
  const t = await store.rungTable('s');
  assert.equal(t.results.length, 0);
  assert.equal(t.decisions.length, 0);
  await store.close();
});

test('the decisions table refuses an unknown action', async () => {
  const { store, file } = await storeWithRuns(0);
  await store.close();
  const db = new Database(file);
  assert.throws(
    () =>
      db
        .prepare(
          `INSERT INTO sweep_decisions (sweep, seq, unit, unit_name, rung, action, reason, basis, decided_at) VALUES ('s', 1, 0, 'u', 1, 'maybe', 'r', '{}', 'x')`,
        )
        .run(),
    /CHECK constraint/,
  );
  db.close();
});
