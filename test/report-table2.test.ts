import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateExperiment } from '../src/parts/experiment.js';
import { openDatabase, SqliteRunStore } from '../src/store/index.js';
import { createRun, finish, record } from './fixtures/sqlite-writes.js';
import type Database from 'better-sqlite3';
import { sweepRows } from '../src/report/rows.js';
import { isTable2, table2 } from '../src/report/table2-shape.js';
import { renderExport } from '../src/report/export.js';
import { loadSweep } from '../src/sweep/spec.js';

/** The async reader the reports take, over a database the test filled. */
const reader = (db: Database.Database) => new SqliteRunStore(':memory:', { db });

const m = (auc: number) => ({ auc, pauc: auc - 0.2, paucMcclish: auc - 0.1 });

function store() {
  const db = openDatabase(':memory:');
  db.prepare(`INSERT INTO sweeps (name, file, spec, created_at, updated_at) VALUES ('t2', 'f', '{}', 'x', 'x')`).run();
  const rows = [
    {
      trial: 'ae',
      raw: { system: 'ae' },
      auc: 0.7,
      paper: { auc: 74.2, pauc: 60.58, types: { fan: { auc: 66.2, pauc: 53.2 }, pump: { auc: 72.9, pauc: 60.3 } } },
    },
    {
      trial: 'fgaspecnet',
      raw: {},
      auc: 0.9,
      paper: {
        auc: 95.04,
        pauc: 89.68,
        types: { fan: { auc: 98.05, pauc: 94.73 }, pump: { auc: 96.03, pauc: 88.24 } },
      },
    },
  ];
  rows.forEach((r, i) => {
    const run = createRun(db, {
      name: `t2/${r.trial}`,
      config: validateExperiment(r.raw, 'x'),
      sweep: 't2',
      trial: r.trial,
      trialIndex: i,
      paper: r.paper,
    });
    record(db, run.id, {
      kind: 'eval',
      epoch: 1,
      final: true,
      ids: {},
      types: { pump: m(r.auc - 0.05), fan: m(r.auc) },
      average: m(r.auc - 0.025),
      scores: [],
    });
    finish(db, run.id, 'done');
  });
  return db;
}

test('Table 2 shape: types in the paper\'s order, "AUC / pAUC(McClish)" ours above the paper\'s per type and on average, best marked', async () => {
  const rows = await sweepRows(reader(store()), 't2');
  assert.ok(isTable2(rows));
  const t = table2(rows);
  assert.deepEqual(t.header, ['', 'method', '', 'fan', 'pump', 'average', 'status']);
  assert.deepEqual(t.rows[0], ['', 'ae', 'ours', '70.00 / 60.00', '65.00 / 55.00', '67.50 / 57.50', 'done']);
  assert.deepEqual(t.rows[1], ['', '', 'paper', '66.20 / 53.20', '72.90 / 60.30', '74.20 / 60.58', '']);
  assert.equal(t.rows[2]![0], '★');
  const fan = t.long.find((r) => r.trial === 'fgaspecnet' && r.type === 'fan')!;
  assert.deepEqual(fan, {
    trial: 'fgaspecnet',
    type: 'fan',
    auc: 0.9,
    pauc: 0.9 - 0.2,
    paucMcclish: 0.9 - 0.1,
    paperAuc: 98.05,
    paperPauc: 94.73,
  });
});

test('exp export renders Table 2 in md, csv (long: trial x type) and json (shape table2)', async () => {
  const db = store();
  const groups = [{ title: 'sweep t2', sweep: 't2', rows: await sweepRows(reader(db), 't2') }];
  const md = renderExport(groups, 'md');
  assert.match(md, /in the shape of the paper's Table 2/);
  assert.match(md, /\| *ae *\| *ours *\| *70\.00 \/ 60\.00/);
  const csv = renderExport(groups, 'csv').trim().split('\n');
  assert.equal(csv[0], 'sweep,trial,type,auc,pauc,paucMcclish,paperAuc,paperPauc');
  assert.equal(csv.length, 1 + 2 * 3);
  const json = JSON.parse(renderExport(groups, 'json')) as Array<{
    shape: string;
    rows: Array<{ trial: string; system: string }>;
  }>;
  assert.equal(json[0]!.shape, 'table2');
  assert.deepEqual(
    json[0]!.rows.map((r) => [r.trial, r.system]),
    [
      ['ae', 'ae'],
      ['fgaspecnet', 'classifier'],
    ],
  );
});

test("sweeps/table2.yaml: seven systems from their own bases, the paper's per-type values, trial profiles applied after the sweep profile", () => {
  const full = loadSweep('table2');
  assert.deepEqual(
    full.trials.map((t) => t.config.system ?? 'classifier'),
    ['ae', 'idnn', 'mobilenetv2', 'glow-aff', 'classifier', 'classifier', 'classifier'],
  );
  assert.deepEqual(
    full.trials.map((t) => t.paper?.auc),
    [74.2, 76.96, 84.34, 85.2, 92.36, 94.07, 95.04],
  );
  for (const t of full.trials) assert.equal(Object.keys(t.paper!.types!).length, 6, t.name);
  const glow = full.trials.find((t) => t.name === 'glow-aff')!.config;
  assert.deepEqual([glow.glow!.levels, glow.glow!.steps, glow.glow!.hidden, glow.data.seconds], [3, 32, 512, 10]);
  const quick = loadSweep('table2', { profile: 'quick' });
  const q = quick.trials.find((t) => t.name === 'glow-aff')!.config;
  assert.deepEqual([q.glow!.levels, q.glow!.steps, q.glow!.hidden, q.data.seconds, q.train.epochs], [2, 4, 64, 2, 8]);
  const ae = quick.trials.find((t) => t.name === 'ae')!.config;
  assert.deepEqual([ae.train.epochs, ae.train.batchSize, ae.data.maxClipsPerId], [20, 4, null]);
});
