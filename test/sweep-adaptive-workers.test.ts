import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sweepDir, fakeEnv, runCli } from './fixtures/sweep-env.js';

// Adaptive sweeps run by `exp worker` processes (what each Slurm task runs) sharing one store:
// here a SQLite file on this host; test/cluster/pg-rungs.test.ts does the same on PostgreSQL.

const ASHA = `search:\n  method: random\n  trials: 9\n  seed: 3\n  space:\n    train.lr: {loguniform: [1.0e-5, 1.0e-1]}\nprune: {method: asha, minEpochs: 1, maxEpochs: 9, reduction: 3}\n`;

function sweepFile(name: string, body: string): { sweep: string; db: string } {
  const { dir, db } = sweepDir({ epochs: 9, trainClips: 8 });
  const sweep = join(dir, `${name}.yaml`);
  writeFileSync(sweep, `name: ${name}\nbase: base.yaml\nset: {train.valSplit: 0.25}\n${body}`);
  return { sweep, db };
}

interface Row {
  trial: string;
  status: string;
  maxEpoch: number | null;
  epochs: number;
}

function stored(db: string, sweep: string) {
  const d = new Database(db, { readonly: true });
  const runs = d
    .prepare(
      `SELECT r.trial, r.status, MAX(e.epoch) AS maxEpoch, COUNT(e.epoch) AS epochs FROM runs r LEFT JOIN epochs e ON e.run_id = r.id WHERE r.sweep = ? GROUP BY r.id ORDER BY r.trial`,
    )
    .all(sweep) as Row[];
  const decisions = d
    .prepare(`SELECT unit, rung, action FROM sweep_decisions WHERE sweep = ? ORDER BY seq`)
    .all(sweep) as Array<{ unit: number; rung: number; action: string }>;
  d.close();
  return { runs, decisions };
}

/** What any correct ASHA run of the 9-configuration search stores, whoever trained what. */
function checkAsha(db: string, sweep: string): void {
  const { runs, decisions } = stored(db, sweep);
  assert.equal(runs.length, 9, 'nine configurations, one run each');
  const unitOf = (trial: string) => Number(/^c(\d+)\//.exec(trial)![1]);
  for (const r of runs) {
    assert.equal(r.epochs, r.maxEpoch, `${r.trial}: every epoch stored once (none trained twice, none lost)`);
    const stop = decisions.find((d) => d.unit === unitOf(r.trial) && d.action === 'stop');
    if (stop) {
      assert.equal(r.status, 'pruned', `${r.trial}: stopped at a rung is stored as pruned`);
      assert.equal(r.maxEpoch, stop.rung, `${r.trial} pruned at ${stop.rung} but trained to ${r.maxEpoch}`);
    } else assert.equal(r.status, 'done', `${r.trial}: not pruned, so finished`);
  }
  assert.equal(decisions.filter((d) => d.rung === 1 && d.action === 'promote').length, 3);
  assert.equal(decisions.filter((d) => d.rung === 3 && d.action === 'promote').length, 1);
  // Each (configuration, rung) is decided once for good: no stop after a promote, no second promote.
  const final = new Map<string, string>();
  for (const d of decisions) {
    const k = `${d.unit}@${d.rung}`;
    assert.ok(final.get(k) !== 'promote' && final.get(k) !== 'stop', `${k}: decided again after ${final.get(k)}`);
    final.set(k, d.action);
  }
  assert.equal(
    runs.reduce((a, r) => a + (r.maxEpoch ?? 0), 0),
    9 * 1 + 3 * 2 + 1 * 6,
  );
}

const worker = (sweep: string, db: string, env: NodeJS.ProcessEnv, until?: Parameters<typeof runCli>[2]) =>
  runCli(['worker', '--sweep', sweep, '--db', db, '--lease', '30'], env, until);

test('two exp worker processes on one ASHA search: the work is shared, promoted trials resume from their checkpoint, the outcome is ASHA’s', async () => {
  const { sweep, db } = sweepFile('wsearch', ASHA);
  const env = fakeEnv(40);
  const [a, b] = await Promise.all([worker(sweep, db, env).done, worker(sweep, db, env).done]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  checkAsha(db, 'wsearch');
  const log = a.stderr + b.stderr;
  assert.match(
    log,
    /started run \S+ \(resuming from [^)]+\), to epoch 3/,
    'a promoted trial resumed from its checkpoint',
  );
  assert.match(log, /pruned at epoch 1: rank/);
  for (const w of [a, b]) assert.match(w.stderr, /: started run /, 'each worker trained something');
  // pruned is a stored status every reader shows, with the rung and the reason.
  const pruned = await runCli(['runs', '--sweep', 'wsearch', '--status', 'pruned', '--json', '--db', db], env).done;
  const listed = JSON.parse(pruned.stdout) as Array<{ id: string; status: string; rung: { epoch: number } | null }>;
  assert.equal(listed.length, 8);
  assert.ok(listed.every((x) => x.status === 'pruned' && x.rung !== null));
  const md = await runCli(['export', 'wsearch', '--format', 'md', '--db', db], env).done;
  assert.equal(md.code, 0, md.stderr);
  assert.equal((md.stdout.match(/pruned at epoch \d/g) ?? []).length, 8, md.stdout);
  const winner = stored(db, 'wsearch').runs.find((x) => x.status === 'done')!;
  const cmp = await runCli(['compare', listed[0]!.id, `wsearch/${winner.trial}`, '--db', db], env).done;
  assert.equal(cmp.code, 0, cmp.stderr);
  assert.match(cmp.stdout, new RegExp(`pruned at epoch ${listed[0]!.rung!.epoch}: rank`));
  // Nothing left: a third worker finds the sweep finished and trains nothing.
  const c = await worker(sweep, db, env).done;
  assert.equal(c.code, 0, c.stderr);
  assert.doesNotMatch(c.stderr, /started run/);
  assert.match(c.stderr, /the sweep is finished/);
});

test('kill -9 of one worker while it trains, a new worker started: the same ASHA outcome, no epoch trained twice or lost', async () => {
  const { sweep, db } = sweepFile('wkill', ASHA);
  const env = fakeEnv(40);
  const steady = worker(sweep, db, env);
  // Killed in the middle of a training (after the first paused trial, while it trains the next).
  const victim = worker(sweep, db, env, {
    pattern: /paused at epoch 1[\s\S]*started run/,
    then: (c) => c.kill('SIGKILL'),
  });
  const v = await victim.done;
  assert.equal(v.signal, 'SIGKILL', v.stderr);
  const fresh = worker(sweep, db, env);
  const [s, f] = await Promise.all([steady.done, fresh.done]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(f.code, 0, f.stderr);
  checkAsha(db, 'wkill');
});

test('TPE with two workers proposes exactly the points one process proposes (no duplicate, same seed, same results)', async () => {
  const body = `search:\n  method: tpe\n  trials: 10\n  seed: 5\n  startup: 4\n  batch: 2\n  space:\n    train.lr: {loguniform: [1.0e-5, 1.0e-1]}\n    loss.metric.gamma: {choice: [0.05, 0.1, 0.2]}\nprune: {method: none, minEpochs: 2, maxEpochs: 2}\n`;
  const one = sweepFile('tpe', body);
  // The reference: one process training one configuration at a time.
  const r = await runCli(['sweep', one.sweep, '--db', one.db, '--no-dashboard', '--concurrency', '1'], fakeEnv(5)).done;
  assert.equal(r.code, 0, r.stderr);
  const two = sweepFile('tpe', body);
  const env = fakeEnv(5);
  const [a, b] = await Promise.all([worker(two.sweep, two.db, env).done, worker(two.sweep, two.db, env).done]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const names = (db: string) => stored(db, 'tpe').runs.map((x) => x.trial);
  assert.equal(new Set(names(two.db)).size, 10, 'ten distinct configurations');
  assert.deepEqual(names(two.db), names(one.db));
});

test('valAcc (ID accuracy on the validation clips, mode max) is an objective: ASHA on it decides as on valLoss here', async () => {
  const { sweep, db } = sweepFile('acc', ASHA.replace('reduction: 3}', 'reduction: 3, metric: valAcc}'));
  const r = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], fakeEnv(2)).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /asha on valAcc \(max\)/);
  checkAsha(db, 'acc');
  // The fake trainer's accuracy falls as its validation loss rises: the same configuration wins.
  const loss = sweepFile('acc', ASHA);
  assert.equal((await runCli(['sweep', loss.sweep, '--db', loss.db, '--no-dashboard'], fakeEnv(2)).done).code, 0);
  const winner = (d: string) => stored(d, 'acc').runs.find((x) => x.status === 'done')?.trial;
  assert.equal(winner(db), winner(loss.db));
  const shown = await runCli(['show', `acc/${winner(db)}`, '--db', db], fakeEnv(2)).done;
  assert.match(shown.stdout, /val acc %/);
});
