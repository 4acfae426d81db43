import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { killRunAtEpoch } from './fixtures/kill-run.js';
import { synthTinySet, writeExperiment } from './fixtures/experiment.js';

// Each Table 2 baseline end to end through the real CLI on a tiny synthetic set (2 types x 2 IDs,
// 1 s clips): train, record, score, show, compare; a per-type run killed mid-way resumes to the
// same scores as an uninterrupted one.
const CLI = join(process.cwd(), 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'exp-systems-'));
const data = join(dir, 'data');
const db = join(dir, 'runs', 'exp.db');
const exp = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });

const SYSTEMS: Record<string, string> = {
  ae: 'ae: {hidden: 16, layers: 2, bottleneck: 4}',
  idnn: 'idnn: {hidden: [16, 8]}',
  mobilenetv2: 'mobilenetv2: {width: 0.35, window: 16, hop: 8, lastChannels: 64}',
  'glow-aff': 'glow: {levels: 2, steps: 1, hidden: 8, segment: 16, hop: 8}',
};

const experiment = (system: string, epochs = 2): string =>
  writeExperiment(dir, {
    name: system,
    file: `${system}-${epochs}`,
    seed: 1,
    data,
    train: { epochs, batchSize: 8, lr: 0.001, weightDecay: 0, schedule: 'constant' },
    extra: `system: ${system}\nfeatures: {logmel: {nFft: 1024, hop: 512, nMels: 32}}\n${SYSTEMS[system]}`,
  });

function scores(runId: string): Array<{ path: string; score: number }> {
  const d = new Database(db, { readonly: true });
  const rows = d
    .prepare('SELECT path, score FROM scores WHERE run_id = ? AND final = 1 ORDER BY path')
    .all(runId) as Array<{ path: string; score: number }>;
  d.close();
  return rows;
}

before(() => synthTinySet(data));

const ids: Record<string, string> = {};

for (const system of Object.keys(SYSTEMS)) {
  test(`${system}: exp run trains one model per machine type, records its own loss terms, scores every test clip`, () => {
    const r = exp(['run', experiment(system), '--db', db, '--json', '--backend', 'wasm']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { id: string; metrics: { types: Record<string, { auc: number }> } };
    ids[system] = out.id;
    assert.deepEqual(Object.keys(out.metrics.types).sort(), ['fan', 'valve']);
    const d = new Database(db, { readonly: true });
    const epochs = d.prepare('SELECT terms FROM epochs WHERE run_id = ? ORDER BY epoch').all(out.id) as Array<{
      terms: string;
    }>;
    const runDir = (d.prepare('SELECT run_dir FROM runs WHERE id = ?').get(out.id) as { run_dir: string }).run_dir;
    d.close();
    assert.equal(epochs.length, 2);
    const terms = Object.keys(JSON.parse(epochs[0]!.terms) as Record<string, number>);
    assert.deepEqual(
      terms,
      { ae: ['mse'], idnn: ['mse'], mobilenetv2: ['ce'], 'glow-aff': ['nll', 'outlier'] }[system],
    );
    for (const v of epochs.map((e) => Object.values(JSON.parse(e.terms) as Record<string, number>)).flat())
      assert.ok(Number.isFinite(v));
    assert.equal(scores(out.id).length, 2 * 2 * 4);
    // The checkpoint holds both types' models.
    const meta = JSON.parse(readFileSync(resolve(dir, runDir, 'last', 'meta.json'), 'utf8')) as {
      tensors: Array<{ name: string }>;
    };
    const names = meta.tensors.map((t) => t.name);
    assert.ok(
      names.some((n) => n.startsWith('param/fan/')) && names.some((n) => n.startsWith('param/valve/')),
      names.slice(0, 5).join(', '),
    );
    const show = exp(['show', out.id, '--db', db]);
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`system: "${system}"`));
  });
}

test('exp compare and exp metrics work across systems', () => {
  const c = exp(['compare', ids.ae!, ids['glow-aff']!, '--db', db, '--json']);
  assert.equal(c.status, 0, c.stderr);
  const cmp = JSON.parse(c.stdout) as { config: Record<string, unknown>; metrics: Record<string, unknown> };
  assert.ok('system' in cmp.config, Object.keys(cmp.config).join(', '));
  assert.ok('fan' in cmp.metrics);
  const m = exp(['metrics', '--run', ids.idnn!, '--db', db, '--json']);
  assert.equal(m.status, 0, m.stderr);
});

test('kill -9 mid-run of a per-type system, then --resume: the same scores as an uninterrupted run', async () => {
  const file = experiment('idnn', 3);
  const { runId, stderr } = await killRunAtEpoch(file, { db, cwd: dir, name: 'idnn', epoch: '2/3' });
  assert.ok(runId, stderr);
  const resumed = exp(['run', '--resume', runId, '--db', db, '--json']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const whole = JSON.parse(
    exp(['run', file, '--db', db, '--json', '--backend', 'wasm', '--name', 'idnn-whole']).stdout,
  ) as { id: string };
  assert.deepEqual(scores(runId), scores(whole.id));
});
