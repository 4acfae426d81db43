import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { synthTinySet } from './fixtures/experiment.js';
import { trainRunEnv } from './fixtures/train-run-env.js';
import { evaluate } from '../src/metrics/index.js';

// End to end through the real CLI: a tiny synthetic set, short clips, the full FGASpecNet model.
// Determinism and kill -9 / --resume are in train-run-resume.test.ts.
const { dir, data, db, exp, experiment, storedEpochs, finalScores } = trainRunEnv('exp-train-');

before(() => synthTinySet(data));

test('exp run trains, stores status, epochs, metrics and scores; AUC recomputes from stored scores', () => {
  const r = exp(['run', experiment('tiny'), '--db', db, '--json', '--backend', 'wasm']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    id: string;
    metrics: { types: Record<string, { auc: number }>; average: { auc: number; pauc: number } };
  };
  assert.deepEqual(Object.keys(out.metrics.types).sort(), ['fan', 'valve']);
  const d = new Database(db, { readonly: true });
  const run = d.prepare('SELECT status, backend FROM runs WHERE id = ?').get(out.id) as {
    status: string;
    backend: string;
  };
  assert.equal(run.status, 'done');
  assert.equal(run.backend, 'wasm');
  assert.deepEqual(storedEpochs(d, out.id), [1, 2, 3]);
  d.close();
  const scores = finalScores(out.id);
  assert.equal(scores.length, 2 * 2 * 4);
  const again = evaluate(scores.map((s) => ({ type: s.type, id: s.machine_id, label: s.label, score: s.score })));
  assert.ok(Math.abs(again.average.auc - out.metrics.average.auc) < 1e-9);
  assert.ok(Math.abs(again.average.pauc - out.metrics.average.pauc) < 1e-9);
  // The stored scores read back through the CLI: exp show --scores is exp metrics' input.
  const csv = exp(['show', out.id, '--db', db, '--scores']);
  assert.equal(csv.status, 0, csv.stderr);
  const csvFile = join(dir, 'scores.csv');
  writeFileSync(csvFile, csv.stdout);
  const fromCsv = JSON.parse(exp(['metrics', csvFile, '--json']).stdout) as { average: { auc: number } };
  const fromRun = JSON.parse(exp(['metrics', '--run', out.id, '--db', db, '--json']).stdout) as {
    average: { auc: number };
  };
  assert.ok(Math.abs(fromCsv.average.auc - out.metrics.average.auc) < 1e-6);
  assert.ok(Math.abs(fromRun.average.auc - out.metrics.average.auc) < 1e-9);
});

test('with train.valSplit the final evaluation uses the epoch of the lowest validation loss, never test data', () => {
  const r = exp([
    'run',
    experiment('val', 'eval: {marginAtTest: true}'),
    '--db',
    db,
    '--json',
    '--backend',
    'wasm',
    '--set',
    'train.valSplit=0.2',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const { id } = JSON.parse(r.stdout) as { id: string };
  const d = new Database(db, { readonly: true });
  const epochs = d.prepare('SELECT epoch, val_loss FROM epochs WHERE run_id = ? ORDER BY epoch').all(id) as Array<{
    epoch: number;
    val_loss: number;
  }>;
  const final = d.prepare('SELECT DISTINCT epoch FROM results WHERE run_id = ? AND final = 1').all(id) as Array<{
    epoch: number;
  }>;
  d.close();
  assert.equal(epochs.length, 3);
  const best = epochs.reduce((a, b) => (b.val_loss < a.val_loss ? b : a));
  assert.deepEqual(
    final.map((f) => f.epoch),
    [best.epoch],
  );
});

test('bad inputs: one clear line, exit 1, and the store stays consistent', () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', experiment('badkey', 'model: {widht: 2}'), '--db', db], /model\.widht/],
    [['run', experiment('badname', 'features: {branches: [logmel, tgarm]}'), '--db', db], /tgarm.*registered/],
    [['run', experiment('noroot'), '--db', db, '--set', `data.root=${join(dir, 'missing')}`], /missing/],
    [['run', experiment('nocls', 'loss: {classification: null}'), '--db', db], /loss\.classification: null/],
  ];
  for (const [args, pattern] of cases) {
    const r = exp(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  // A corrupt WAV inside the data: the error names the file.
  const broken = join(dir, 'broken');
  synthTinySet(broken, { types: 'fan', train: 3, test: 2 });
  const trainDir = join(broken, 'fan', 'train');
  const victim = readdirSync(trainDir)[0]!;
  writeFileSync(join(trainDir, victim), 'not a wav file');
  const r = exp(['run', experiment('corrupt'), '--db', db, '--set', `data.root=${broken}`]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(victim));
  const d = new Database(db, { readonly: true });
  assert.equal((d.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check, 'ok');
  const running = d.prepare(`SELECT count(*) AS n FROM runs WHERE status = 'running'`).get() as { n: number };
  assert.equal(running.n, 0);
  d.close();
});

test('a NaN loss stops the run, names the step and stores it as failed', () => {
  const r = exp([
    'run',
    experiment('nan', 'loss: {classification: {scale: 1.0e+38}}'),
    '--db',
    db,
    '--backend',
    'wasm',
  ]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /loss became NaN at epoch 1, step \d+ of/);
  const d = new Database(db, { readonly: true });
  const row = d.prepare(`SELECT status, error FROM runs WHERE name = 'nan'`).get() as { status: string; error: string };
  d.close();
  assert.equal(row.status, 'failed');
  assert.match(row.error, /NaN|Infinity/);
});
