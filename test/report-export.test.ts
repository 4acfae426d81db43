import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExperimentConfig } from '../src/config/schema.js';
import { openDatabase, SqliteRunStore } from '../src/store/index.js';
import { createRun, finish, record } from './fixtures/sqlite-writes.js';
import type Database from 'better-sqlite3';
import { paperTable, tableShape } from '../src/report/paper-table.js';
import { sweepRows } from '../src/report/rows.js';
import { diffKeys } from '../src/report/flatten.js';
import { barChartSvg } from '../src/report/chart.js';
import { sweepDir, fakeEnv, CLI } from './fixtures/sweep-env.js';

/** The async reader the reports take, over a database the test filled. */
const reader = (db: Database.Database) => new SqliteRunStore(':memory:', { db });

const m = (auc: number) => ({ auc, pauc: auc - 0.2, paucMcclish: auc - 0.1 });

function store(file = ':memory:') {
  const db = openDatabase(file);
  db.prepare(`INSERT INTO sweeps (name, file, spec, created_at, updated_at) VALUES ('abl', 'f', '{}', 'x', 'x')`).run();
  const configs = [
    { features: { branches: ['logmel', 'tgram', 'tagram'] }, loss: { metric: null } },
    { features: { branches: ['logmel', 'tgram', 'tagram', 'specnet'] } },
    { features: { branches: ['logmel', 'tgram', 'tagram', 'fga-spec'] } },
  ];
  const aucs = [0.8, 0.93, 0.9];
  configs.forEach((raw, i) => {
    const run = createRun(db, {
      name: `abl/t${i}`,
      config: ExperimentConfig.parse(raw),
      sweep: 'abl',
      trial: `t${i}`,
      trialIndex: i,
      paper: { auc: 94 + i, pauc: 88 + i },
    });
    record(db, run.id, {
      kind: 'epoch',
      epoch: 1,
      epochs: 1,
      loss: 2 - i,
      terms: {},
      lr: 1e-4,
      clipsPerSec: 1,
      seconds: 1,
      valLoss: null,
    });
    record(db, run.id, {
      kind: 'eval',
      epoch: 1,
      final: true,
      ids: {},
      types: { fan: m(aucs[i]!), pump: m(aucs[i]! - 0.05) },
      average: m(aucs[i]! - 0.025),
      scores: [],
    });
    finish(db, run.id, 'done');
  });
  return db;
}

test('Table 3 shape: check marks derived from configs, ours in % beside the paper, best row marked', async () => {
  const db = store();
  const t = paperTable(await sweepRows(reader(db), 'abl'));
  assert.equal(t.shape, 'table3');
  assert.deepEqual(
    t.rows.map((r) => r.slice(2, 5)),
    [
      ['–', '–', '–'],
      ['✓', '–', '✓'],
      ['✓', '✓', '✓'],
    ],
  );
  assert.equal(t.best, 1);
  assert.equal(t.rows[1]![0], '★');
  const auc = t.header.indexOf('AUC');
  assert.equal(t.rows[1]![auc], (100 * (0.93 - 0.025)).toFixed(2));
  assert.equal(t.rows[1]![t.header.indexOf('paper AUC')], '95.00');
  assert.equal(t.rows[1]![t.header.indexOf('pAUC (McClish)')], (100 * (0.93 - 0.025 - 0.1)).toFixed(2));
});

test('Table 4 shape when only SoftTriple settings vary; diffKeys collapses a nulled section', () => {
  const a = ExperimentConfig.parse({});
  const b = ExperimentConfig.parse({ loss: { metric: { gamma: 0.05 } } });
  assert.equal(tableShape([a, b]), 'table4');
  assert.deepEqual(diffKeys([a, b]), ['loss.metric.gamma']);
  assert.deepEqual(diffKeys([a, ExperimentConfig.parse({ loss: { metric: null } })]), ['loss.metric']);
});

test('the SVG chart has one bar per trial, series and panel, with heights proportional to the values', async () => {
  const db = store();
  const svg = barChartSvg(await sweepRows(reader(db), 'abl'), 'abl');
  const rects = [
    ...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="\d+\.\d" height="([\d.]+)" fill="#(2b6cb0|a0aec0)"\/>/g),
  ];
  assert.equal(rects.length, 3 * 2 * 2);
  const tops = rects.map((r) => Number(r[1]) + Number(r[2]));
  assert.ok(
    tops.every((b) => Math.abs(b - tops[0]!) < 0.2),
    'bars share a baseline',
  );
  const ours = rects
    .filter((r) => r[3] === '2b6cb0')
    .slice(0, 3)
    .map((r) => Number(r[2]));
  assert.ok(ours[1]! > ours[2]! && ours[2]! > ours[0]!, 'taller bar = higher AUC');
});

test('CLI: runs --json, compare --json (interface shape), export md with chart, csv and json', () => {
  const { sweep, db, dir } = sweepDir({ trials: 2, epochs: 2 });
  const r = spawnSync(process.execPath, [CLI, 'sweep', sweep, '--db', db, '--no-dashboard'], {
    env: fakeEnv(5),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args, '--db', db], { encoding: 'utf8' });
  const runs = JSON.parse(cli('runs', '--json')) as Array<Record<string, unknown>>;
  assert.equal(runs.length, 2);
  for (const k of ['id', 'name', 'sweep', 'status', 'configHash', 'startedAt', 'finishedAt', 'metrics'])
    assert.ok(k in runs[0]!, k);
  const metrics = runs[0]!.metrics as { auc: number; pauc: number; paucMcclish: number };
  assert.ok(
    metrics.auc > 0 && metrics.auc <= 1 && typeof metrics.pauc === 'number' && typeof metrics.paucMcclish === 'number',
  );
  const c = JSON.parse(cli('compare', 't0', 't1', '--json')) as {
    a: string;
    b: string;
    config: Record<string, [unknown, unknown]>;
    metrics: Record<string, { auc: number[] }>;
  };
  assert.deepEqual(c.config, { seed: [0, 1] });
  assert.ok(c.metrics.fan && c.metrics.pump && c.metrics.average);
  const [a, b, d] = c.metrics.average.auc as [number, number, number];
  assert.ok(Math.abs(b - a - d) < 1e-12);
  assert.equal(a, metrics.auc);
  const out = join(dir, 'table.md');
  cli('export', 'tiny', '--format', 'md', '--out', out);
  assert.match(readFileSync(out, 'utf8'), /\| ★ \|/);
  assert.ok(existsSync(join(dir, 'table.svg')));
  assert.match(readFileSync(join(dir, 'table.svg'), 'utf8'), /^<svg/);
  const csv = cli('export', 'tiny', '--format', 'csv').trim().split('\n');
  assert.equal(csv.length, 3);
  const json = JSON.parse(cli('export', 'tiny', '--format', 'json')) as Array<{ rows: unknown[] }>;
  assert.equal(json[0]!.rows.length, 2);
  const bad = spawnSync(process.execPath, [CLI, 'show', 'nope', '--db', db], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /run "nope"/);
  assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/, 'no stack for a user error');
});

test('rows computed by different code versions get a note in the sweep table and the markdown export; one version gets none', async () => {
  const { formatSweepTable } = await import('../src/report/sweep-table.js');
  const { renderExport } = await import('../src/report/export.js');
  const db = store();
  const setCommit = (commit: string, dirty: number) =>
    db.prepare('UPDATE runs SET git_commit = ?, git_dirty = ?').run(commit, dirty);
  const md = async () => renderExport([{ title: 'abl', sweep: 'abl', rows: await sweepRows(reader(db), 'abl') }], 'md');
  setCommit('aaaaaaaaaaaa', 0);
  assert.doesNotMatch(await formatSweepTable(reader(db), 'abl'), /code versions/);
  assert.doesNotMatch(await md(), /code versions/);
  assert.match(await md(), /## abl\n\nin the shape of the paper's Table 3 \(ablation\); profile: full\n/);
  db.prepare("UPDATE runs SET git_commit = 'bbbbbbbbbbbb' WHERE trial = 't1'").run();
  db.prepare("UPDATE runs SET git_dirty = 1 WHERE trial = 't2'").run();
  const note =
    /note: these results come from 3 code versions \(aaaaaaaa, bbbbbbbb, aaaaaaaa\+changes\).*exp sweep abl --force/;
  assert.match(await formatSweepTable(reader(db), 'abl'), note);
  assert.match(await md(), note);
});

test('--seeds rows: mean and sample sd over the seeds of each configuration in the sweep table and the markdown export', async () => {
  const { formatSweepTable } = await import('../src/report/sweep-table.js');
  const { renderExport } = await import('../src/report/export.js');
  const db = openDatabase(':memory:');
  db.prepare(`INSERT INTO sweeps (name, file, spec, created_at, updated_at) VALUES ('sd', 'f', '{}', 'x', 'x')`).run();
  const aucs: Record<string, number[]> = { a: [0.5, 0.6, 0.7], b: [0.8, 0.8] };
  let i = 0;
  for (const [trial, values] of Object.entries(aucs)) {
    values.forEach((auc, k) => {
      const raw = { seed: k + 1, ...(trial === 'b' ? { train: { lr: 0.01 } } : {}) };
      const run = createRun(db, {
        name: `sd/${trial}/seed=${k + 1}`,
        config: ExperimentConfig.parse(raw),
        sweep: 'sd',
        trial: `${trial}/seed=${k + 1}`,
        trialIndex: i++,
        paper: trial === 'a' ? { auc: 94, pauc: 88 } : null,
      });
      record(db, run.id, {
        kind: 'eval',
        epoch: 1,
        final: true,
        ids: {},
        types: { fan: m(auc) },
        average: m(auc),
        scores: [],
      });
      finish(db, run.id, 'done');
    });
  }
  const table = await formatSweepTable(reader(db), 'sd');
  // a: mean 60, sd 10 (sample); b: mean 80, sd 0; pAUC = AUC - 20 points, McClish = AUC - 10.
  assert.match(table, /over seeds/);
  assert.match(table, /a\s+1,2,3\s+60\.00 ± 10\.00\s+40\.00 ± 10\.00\s+50\.00 ± 10\.00\s+94\.00\s+88\.00/);
  assert.match(table, /b\s+1,2\s+80\.00 ± 0\.00/);
  const md = renderExport([{ title: 'sd', sweep: 'sd', rows: await sweepRows(reader(db), 'sd') }], 'md');
  assert.match(md, /\| a +\| 1,2,3 +\| +60\.00 ± 10\.00 \|/);
  const json = JSON.parse(
    renderExport([{ title: 'sd', sweep: 'sd', rows: await sweepRows(reader(db), 'sd') }], 'json'),
  ) as Array<{ overSeeds?: Array<{ trial: string; seeds: number[]; auc: { mean: number; sd: number } }> }>;
  assert.deepEqual(
    json[0]!.overSeeds!.map((g) => [g.trial, g.seeds, +g.auc.mean.toFixed(6), +g.auc.sd.toFixed(6)]),
    [
      ['a', [1, 2, 3], 0.6, 0.1],
      ['b', [1, 2], 0.8, 0],
    ],
  );
  // One seed per configuration: no over-seeds table.
  assert.doesNotMatch(await formatSweepTable(reader(store()), 'abl'), /over seeds/);
  assert.equal(
    JSON.parse(renderExport([{ title: 'abl', sweep: 'abl', rows: await sweepRows(reader(store()), 'abl') }], 'json'))[0]
      .overSeeds,
    undefined,
  );
});
