import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { connectPg } from '../fixtures/pg-client.js';
import { sweepDir, fakeEnv, runCli } from '../fixtures/sweep-env.js';
import { PgRunStore } from '../../src/store/pg/pg-store.js';
import { ExperimentConfig } from '../../src/config/schema.js';

// Adaptive sweeps (search + ASHA) on PostgreSQL with several `exp worker` processes, and on Slurm.
// Run by `npm run test:cluster` (tools/cluster/test.sh starts a throwaway PostgreSQL and a
// one-node Slurm cluster and sets EXP_TEST_PG_URL / SLURM_CONF). Without them this file fails; it
// never passes without having run. Trials use the fake trainer (real checkpoints and events).
const URL_ = process.env.EXP_TEST_PG_URL;
let client: pg.Client;

before(async () => {
  assert.ok(URL_ && process.env.SLURM_CONF, 'EXP_TEST_PG_URL / SLURM_CONF are not set: run npm run test:cluster');
  client = await connectPg(URL_);
});
after(async () => {
  await client.end();
});

const ASHA = `search:\n  method: random\n  trials: 9\n  seed: 3\n  space:\n    train.lr: {loguniform: [1.0e-5, 1.0e-1]}\nprune: {method: asha, minEpochs: 1, maxEpochs: 9, reduction: 3}\n`;

function sweepFile(name: string): { file: string; dir: string } {
  const { dir } = sweepDir({ epochs: 9, trainClips: 8 });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nbase: base.yaml\nset: {train.valSplit: 0.25}\n${ASHA}`);
  return { file, dir };
}

/** What any correct ASHA run of the 9-configuration search stores, whichever process trained what. */
async function checkAsha(sweep: string): Promise<void> {
  const runs = (
    await client.query(
      `SELECT r.trial, r.status, MAX(e.epoch) AS max, COUNT(e.epoch) AS n FROM runs r LEFT JOIN epochs e ON e.run_id = r.id
       WHERE r.sweep = $1 GROUP BY r.id, r.trial, r.status ORDER BY r.trial`,
      [sweep],
    )
  ).rows as Array<{ trial: string; status: string; max: number | null; n: string }>;
  const decisions = (
    await client.query(`SELECT unit, unit_name, rung, action FROM sweep_decisions WHERE sweep = $1 ORDER BY seq`, [
      sweep,
    ])
  ).rows as Array<{ unit: number; unit_name: string; rung: number; action: string }>;
  assert.equal(runs.length, 9, 'nine configurations, one run each');
  for (const x of runs) {
    assert.equal(Number(x.n), Number(x.max), `${x.trial}: every epoch stored once (none trained twice, none lost)`);
    const stop = decisions.find((d) => d.unit_name === x.trial && d.action === 'stop');
    if (stop) {
      assert.equal(x.status, 'pruned', `${x.trial}: stored as pruned`);
      assert.equal(Number(x.max), stop.rung, `${x.trial} pruned at ${stop.rung} but trained to ${x.max}`);
    } else assert.equal(x.status, 'done', `${x.trial}: not pruned, so finished`);
  }
  assert.equal(decisions.filter((d) => d.rung === 1 && d.action === 'promote').length, 3);
  assert.equal(decisions.filter((d) => d.rung === 3 && d.action === 'promote').length, 1);
  const final = new Map<string, string>();
  for (const d of decisions) {
    const k = `${d.unit}@${d.rung}`;
    assert.ok(final.get(k) !== 'promote' && final.get(k) !== 'stop', `${k}: decided again after ${final.get(k)}`);
    final.set(k, d.action);
  }
  assert.equal(
    runs.reduce((a, x) => a + Number(x.max ?? 0), 0),
    9 + 3 * 2 + 6,
    'epochs: 9 configurations to 1, 3 to 3, 1 to 9',
  );
}

const worker = (file: string, env: NodeJS.ProcessEnv, until?: Parameters<typeof runCli>[2]) =>
  runCli(['worker', '--sweep', file, '--db', URL_!, '--lease', '30'], env, until);

test("recordRungs from two stores at once: one decider at a time (each sees the other's rows), decisions numbered 1..n", async () => {
  const a = await PgRunStore.open(URL_!);
  const b = await PgRunStore.open(URL_!);
  try {
    await a.registerSweep({ name: 'pg-rungs-race', file: 'x.yaml', profile: null, spec: {}, trials: [] });
    const config = ExperimentConfig.parse({ name: 'tiny' });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(
        (
          await a.createRun({
            name: `pg-rungs-race/t${i}`,
            config: { ...config, seed: i },
            sweep: 'pg-rungs-race',
            trial: `t${i}`,
            trialIndex: i,
            status: 'queued',
          })
        ).id,
      );
    const seen: number[] = [];
    await Promise.all(
      ids.map((id, i) =>
        (i % 2 ? a : b).recordRungs(
          'pg-rungs-race',
          [{ runId: id, unit: i, rung: 1, metric: 'valLoss', value: i }],
          (t) => {
            seen.push(t.results.length);
            return [
              {
                unit: i,
                unitName: `t${i}`,
                rung: 1,
                action: 'pause',
                reason: `saw ${t.results.length}`,
                basis: { n: t.results.length },
              },
            ];
          },
        ),
      ),
    );
    // Serialised: the k-th decider saw exactly k results (a retried transaction may decide again, so distinct values).
    assert.deepEqual(
      [...new Set(seen)].sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, k) => k + 1),
    );
    const t = await a.rungTable('pg-rungs-race');
    assert.deepEqual(
      t.decisions.map((d) => d.seq),
      Array.from({ length: 20 }, (_, k) => k + 1),
    );
    assert.deepEqual(
      t.decisions.map((d) => d.basis.n),
      Array.from({ length: 20 }, (_, k) => k + 1),
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('two exp worker processes on PostgreSQL run one ASHA search together: pruned trials stored as pruned, promoted ones resumed from their checkpoint', async () => {
  const { file } = sweepFile('pg-asha-2w');
  const env = fakeEnv(40);
  const [a, b] = await Promise.all([worker(file, env).done, worker(file, env).done]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  await checkAsha('pg-asha-2w');
  const log = a.stderr + b.stderr;
  assert.match(log, /started run \S+ \(resuming from [^)]+\), to epoch 3/);
  for (const w of [a, b]) assert.match(w.stderr, /: started run /, 'each worker trained something');
  const st = await runCli(['sweep', 'status', file, '--db', URL_!], env).done;
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /pruned 8, finished 1; epochs 21 of 81/);
});

test('kill -9 of a worker while it trains, then another worker: the same ASHA outcome, no epoch trained twice or lost', async () => {
  const { file } = sweepFile('pg-asha-kill');
  const env = fakeEnv(40);
  const steady = worker(file, env);
  const victim = worker(file, env, {
    pattern: /paused at epoch 1[\s\S]*started run/,
    then: (c) => c.kill('SIGKILL'),
  });
  const v = await victim.done;
  assert.equal(v.signal, 'SIGKILL', v.stderr);
  const fresh = worker(file, env);
  const [s, f] = await Promise.all([steady.done, fresh.done]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(f.code, 0, f.stderr);
  await checkAsha('pg-asha-kill');
});

test('an ASHA search on Slurm (--executor slurm --concurrency 2): two array tasks of exp worker finish it', async () => {
  const { file, dir } = sweepFile('pg-asha-slurm');
  const r = await runCli(
    [
      'sweep',
      file,
      '--executor',
      'slurm',
      '--db',
      URL_!,
      '--artifacts',
      join(dir, 'art'),
      '--concurrency',
      '2',
      '--no-dashboard',
    ],
    { ...fakeEnv(40), EXP_FOLLOW_POLL_MS: '300' },
  ).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /submitted Slurm job \d+: 2 task\(s\)/);
  await checkAsha('pg-asha-slurm');
  // The node is idle again before the next test file starts.
  const until = Date.now() + 60_000;
  while (spawnSync('squeue', ['-h'], { encoding: 'utf8' }).stdout.trim() !== '' && Date.now() < until)
    await new Promise((res) => setTimeout(res, 300));
});
