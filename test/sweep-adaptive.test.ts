import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sweepDir, fakeEnv, runCli } from './fixtures/sweep-env.js';

/** A random search with ASHA over the fake trainer, whose validation loss is best at lr = 1e-3. */
function adaptiveSweep(extra = ''): { sweep: string; db: string; dir: string } {
  const { dir, db } = sweepDir({ epochs: 9, trainClips: 8 });
  const sweep = join(dir, 'search.yaml');
  writeFileSync(
    sweep,
    `name: search\nbase: base.yaml\nset: {train.valSplit: 0.25}\nsearch:\n  method: random\n  trials: 9\n  seed: 3\n  space:\n    train.lr: {loguniform: [1.0e-5, 1.0e-1]}\nprune: {method: asha, minEpochs: 1, maxEpochs: 9, reduction: 3}\n${extra}`,
  );
  return { sweep, db, dir };
}

interface Row {
  id: string;
  trial: string;
  status: string;
  maxEpoch: number | null;
  epochs: number;
}

function runsOf(db: string): {
  runs: Row[];
  decisions: Array<{ unit: number; rung: number; action: string; reason: string }>;
  rungs: number;
} {
  const d = new Database(db, { readonly: true });
  const runs = d
    .prepare(
      `SELECT r.id, r.trial, r.status, MAX(e.epoch) AS maxEpoch, COUNT(e.epoch) AS epochs FROM runs r LEFT JOIN epochs e ON e.run_id = r.id WHERE r.sweep = 'search' GROUP BY r.id ORDER BY r.trial`,
    )
    .all() as Row[];
  const decisions = d
    .prepare(`SELECT unit, rung, action, reason FROM sweep_decisions WHERE sweep = 'search' ORDER BY seq`)
    .all() as Array<{ unit: number; rung: number; action: string; reason: string }>;
  const rungs = d.prepare(`SELECT COUNT(*) FROM sweep_rungs WHERE sweep = 'search'`).pluck().get() as number;
  d.close();
  return { runs, decisions, rungs };
}

function checkOutcome(db: string): void {
  const { runs, decisions } = runsOf(db);
  assert.equal(runs.length, 9, 'nine sampled configurations, one run each');
  const unitOf = (trial: string) => Number(/^c(\d+)\//.exec(trial)![1]);
  const last = (unit: number, rung: number) =>
    decisions.filter((d) => d.unit === unit && d.rung === rung).at(-1)?.action;
  for (const r of runs) {
    const u = unitOf(r.trial);
    // Epochs are stored once each (1..max), never beyond a rung the configuration was not promoted from.
    assert.equal(r.epochs, r.maxEpoch, `${r.trial}: epochs 1..${r.maxEpoch} each once`);
    for (const rung of [1, 3])
      if ((r.maxEpoch ?? 0) > rung)
        assert.equal(last(u, rung), 'promote', `${r.trial} trained past epoch ${rung} without a promotion`);
    const stop = decisions.find((d) => d.unit === u && d.action === 'stop');
    if (stop) assert.equal(r.maxEpoch, stop.rung, `${r.trial} pruned at ${stop.rung} but trained to ${r.maxEpoch}`);
    else assert.equal(r.status, 'done', `${r.trial}: not pruned, so finished`);
  }
  // floor(9/3) = 3 go on from epoch 1, 1 from epoch 3; the one with lr nearest 1e-3 finishes.
  assert.equal(decisions.filter((d) => d.rung === 1 && d.action === 'promote').length, 3);
  assert.equal(decisions.filter((d) => d.rung === 3 && d.action === 'promote').length, 1);
  assert.equal(runs.filter((r) => r.status === 'done').length, 1);
  const spent = runs.reduce((a, r) => a + (r.maxEpoch ?? 0), 0);
  assert.equal(spent, 9 * 1 + 3 * 2 + 1 * 6, 'epochs: 9 configurations to 1, 3 to 3, 1 to 9');
}

test('an ASHA random search: pruned trials stop at their rung, promoted ones continue from their checkpoint, decisions are rows; a second run changes nothing', async () => {
  const { sweep, db } = adaptiveSweep();
  const env = fakeEnv(2);
  const r = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], env).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /asha on valLoss \(min\)/);
  assert.match(r.stderr, /pruned: epoch 1: rank/);
  assert.match(r.stderr, /epochs 21 of 81 as a full grid \(26 %\)/);
  checkOutcome(db);
  // A resumed (promoted) trial continued from its checkpoint: its start event says so.
  assert.match(r.stderr, /started \(resuming from its last checkpoint\)/);
  // exp sweep status reads the same picture back from the store alone.
  const st = await runCli(['sweep', 'status', sweep, '--db', db], env).done;
  assert.equal(st.code, 0, st.stderr);
  assert.match(
    st.stdout,
    /asha on valLoss \(min\); rungs epoch:configs 1:9 3:3 9:1; running 0, paused 0, promoted 0, pruned 8, finished 1; epochs 21 of 81 as a full grid \(26 %\)/,
  );
  assert.equal((st.stdout.match(/ pruned {6}/g) ?? []).length, 8, st.stdout);
  assert.match(st.stdout, /pruned .*epoch 1: rank \d of 9 at epoch 1/);
  // exp runs and exp show say pruned (not failed or interrupted), with the rung and the reason.
  const runs = await runCli(['runs', '--sweep', 'search', '--db', db, '--json'], env).done;
  const listed = JSON.parse(runs.stdout) as Array<{
    trial: string;
    status: string;
    rung: { status: string; epoch: number; reason: string } | null;
  }>;
  assert.equal(listed.filter((x) => x.rung?.status === 'pruned').length, 8);
  const victim = listed.find((x) => x.rung?.status === 'pruned')!;
  const shown = await runCli(['show', `search/${victim.trial}`, '--db', db], env).done;
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout.split('\n')[0]!, / pruned /);
  assert.match(shown.stdout, new RegExp(`rung epoch ${victim.rung!.epoch}: stop \\(rank`));
  // The HTML report has the rung chart.
  const html = join(dirname(db), 'report.html');
  const rep = await runCli(['report', 'search', '--db', db, '--out', html], env).done;
  assert.equal(rep.code, 0, rep.stderr);
  assert.match(readFileSync(html, 'utf8'), /rungs \(pruning\)/);
  const before = runsOf(db);
  const again = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], env).done;
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /: started/, 'nothing is trained again');
  assert.deepEqual(runsOf(db).decisions, before.decisions);
});

test('kill -9 of the sweep in the middle, then the same command: the same decisions, no epoch trained twice or lost', async () => {
  const { sweep, db } = adaptiveSweep();
  const env = fakeEnv(20);
  const first = runCli(['sweep', sweep, '--db', db, '--no-dashboard'], env, {
    pattern: /promoted: epoch 1/,
    then: (c) => c.kill('SIGKILL'),
  });
  const r1 = await first.done;
  assert.equal(r1.signal, 'SIGKILL', r1.stderr);
  const mid = runsOf(db).decisions;
  assert.ok(mid.length > 0);
  const r2 = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], fakeEnv(2)).done;
  assert.equal(r2.code, 0, r2.stderr);
  const after = runsOf(db).decisions;
  assert.deepEqual(after.slice(0, mid.length), mid, 'decisions stored before the kill are kept as they were');
  checkOutcome(db);
});

test('pruning on a test metric is refused without allowTestSelection, valLoss needs valSplit, --force is refused (one line, exit 1)', async () => {
  const { sweep, db } = adaptiveSweep('');
  writeFileSync(
    sweep,
    `name: search\nbase: base.yaml\nset: {train.valSplit: 0.25, train.evalEvery: 1}\nsearch: {method: random, trials: 3, space: {train.lr: {loguniform: [1.0e-5, 1.0e-1]}}}\nprune: {method: asha, metric: auc, minEpochs: 1, maxEpochs: 3}\n`,
  );
  const r = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], fakeEnv(2)).done;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /prune\.metric auc is a test-set metric.*allowTestSelection: true/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  writeFileSync(
    sweep,
    `name: search\nbase: base.yaml\nsearch: {method: random, trials: 3, space: {train.lr: {loguniform: [1.0e-5, 1.0e-1]}}}\nprune: {method: asha, minEpochs: 1, maxEpochs: 3}\n`,
  );
  const r2 = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], fakeEnv(2)).done;
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /valLoss needs train\.valSplit/);
  writeFileSync(
    sweep,
    `name: search\nbase: base.yaml\nset: {train.valSplit: 0.25}\nsearch: {method: random, trials: 3, space: {train.lr: {loguniform: [1.0e-5, 1.0e-1]}}}\nprune: {method: asha, minEpochs: 1, maxEpochs: 3}\n`,
  );
  const r3 = await runCli(['sweep', sweep, '--db', db, '--no-dashboard', '--force'], fakeEnv(2)).done;
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /--rerun-failed and --force are not supported for search \/ prune sweeps/);
  assert.equal(r3.stderr.trim().split('\n').length, 1, r3.stderr);
});

test('a sweep that selects on a test metric with allowTestSelection runs, and show / export say so', async () => {
  const { sweep, db } = adaptiveSweep();
  writeFileSync(
    sweep,
    `name: search\nbase: base.yaml\nset: {train.evalEvery: 1}\nallowTestSelection: true\nsearch: {method: random, trials: 3, seed: 1, space: {train.lr: {loguniform: [1.0e-5, 1.0e-1]}}}\nprune: {method: median, metric: auc, minEpochs: 1, maxEpochs: 3, minPeers: 1}\n`,
  );
  const env = fakeEnv(2);
  const r = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], env).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /median on auc \(max\) \[selects on a TEST metric\]/);
  assert.ok(runsOf(db).rungs > 0, 'rung results were stored');
  const md = await runCli(['export', 'search', '--format', 'md', '--db', db], env).done;
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /WARNING: this sweep selected configurations on the test-set metric auc/);
  const json = JSON.parse(
    (await runCli(['export', 'search', '--format', 'json', '--db', db], env).done).stdout,
  ) as Array<{ testSelection?: boolean }>;
  assert.equal(json[0]!.testSelection, true);
  const any = runsOf(db).runs[0]!;
  const shown = await runCli(['show', any.id, '--db', db], env).done;
  assert.match(shown.stdout, /WARNING: this sweep selected configurations on the test-set metric auc/);
});

test('with --seeds a configuration is judged on its mean over its seeds, once all of them reached the rung', async () => {
  const { sweep, db } = adaptiveSweep();
  writeFileSync(
    sweep,
    `name: search\nbase: base.yaml\nset: {train.valSplit: 0.25}\nsearch: {method: random, trials: 3, seed: 2, space: {train.lr: {loguniform: [1.0e-5, 1.0e-1]}}}\nprune: {method: asha, minEpochs: 1, maxEpochs: 3, reduction: 3}\n`,
  );
  const r = await runCli(['sweep', sweep, '--db', db, '--no-dashboard', '--seeds', '1,4'], fakeEnv(2)).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /judged on the mean over 2 seeds/);
  const d = new Database(db, { readonly: true });
  const results = d
    .prepare(`SELECT unit, rung, value FROM sweep_rungs WHERE sweep = 'search' AND rung = 1`)
    .all() as Array<{ unit: number; rung: number; value: number }>;
  const decisions = d
    .prepare(`SELECT unit, rung, action, basis FROM sweep_decisions WHERE sweep = 'search' AND rung = 1 ORDER BY seq`)
    .all() as Array<{ unit: number; action: string; basis: string }>;
  d.close();
  assert.equal(results.length, 6, 'three configurations x two seeds at epoch 1');
  for (const dec of decisions) {
    const vals = results.filter((x) => x.unit === dec.unit).map((x) => x.value);
    assert.equal(vals.length, 2);
    // The seeds differ (the fake's validation loss depends on the seed): the basis is their mean.
    assert.notEqual(vals[0], vals[1]);
    assert.ok(Math.abs((JSON.parse(dec.basis) as { value: number }).value - (vals[0]! + vals[1]!) / 2) < 1e-12);
  }
  // floor(3/3) = 1 configuration (both its seeds) goes on to epoch 3.
  assert.equal(decisions.filter((x) => x.action === 'promote').length, 1);
});
