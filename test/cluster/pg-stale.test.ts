import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { reportStore } from '../fixtures/report-store.js';
import { CLI } from '../fixtures/sweep-env.js';
import { openRunStore } from '../../src/store/open.js';
import { UserError } from '../../src/util/errors.js';

// A run whose worker died (kill -9, a node lost) stays 'running' in PostgreSQL until a worker
// claims it again; the reading commands show it as stale, without writing. Run by `npm run
// test:cluster` (tools/cluster/test.sh sets EXP_TEST_PG_URL); without it this file fails.
const URL_ = process.env.EXP_TEST_PG_URL;

before(() => {
  assert.ok(URL_, 'EXP_TEST_PG_URL is not set: run these tests with npm run test:cluster');
});

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, `exp ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function sql(url: string, q: string, args: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(q, args)).rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

test('a running row without a heartbeat for longer than the lease shows as stale in exp runs, show and sweep status; nothing is written, SELECT alone suffices', async () => {
  const fx = reportStore({ sweep: `stale-${Date.now().toString(36)}` });
  assert.equal(spawnSync(process.execPath, [CLI, 'db', 'copy', fx.db, URL_!]).status, 0);
  const runs = await sql(
    URL_!,
    'SELECT id, trial, config_hash, paper FROM runs WHERE sweep = $1 ORDER BY trial_index',
    [fx.sweep],
  );
  const [dead, live, done] = runs.map((r) => String(r.id)) as [string, string, string];
  // The sweep's trial list, as exp sweep records it, so that exp sweep status lists the trials.
  const trials = runs.map((r) => ({ name: r.trial, hash: r.config_hash, paper: JSON.parse(String(r.paper)) }));
  await sql(URL_!, 'UPDATE sweeps SET spec = $1 WHERE name = $2', [JSON.stringify({ trials }), fx.sweep]);
  // What a worker killed 412 s ago leaves behind, and a worker on another node beating now.
  const now = Date.now();
  const running = `UPDATE runs SET status = 'running', host = $1, pid = $2, heartbeat_at = $3, finished_at = NULL WHERE id = $4`;
  await sql(URL_!, running, ['gone-node', 4242, now - 412_000, dead]);
  await sql(URL_!, running, ['busy-node', 4243, now, live]);
  const before = await sql(
    URL_!,
    'SELECT id, status, host, pid, heartbeat_at, finished_at, error FROM runs WHERE sweep = $1 ORDER BY id',
    [fx.sweep],
  );

  const table = cli(['runs', '--sweep', fx.sweep, '--db', URL_!]);
  const statusOf = (id: string) =>
    table
      .split('\n')
      .find((l) => l.startsWith(id))
      ?.split(/\s{2,}/)[3];
  assert.deepEqual([statusOf(dead), statusOf(live), statusOf(done)], ['stale', 'running', 'done'], table);
  const json = JSON.parse(cli(['runs', '--sweep', fx.sweep, '--json', '--db', URL_!])) as Array<{
    id: string;
    status: string;
    stale: boolean;
  }>;
  assert.deepEqual(
    json.map((r) => [r.id, r.status, r.stale]),
    [
      [dead, 'running', true],
      [live, 'running', false],
      [done, 'done', false],
    ],
  );
  const only = (s: string) =>
    (
      JSON.parse(cli(['runs', '--sweep', fx.sweep, '--status', s, '--json', '--db', URL_!])) as Array<{ id: string }>
    ).map((r) => r.id);
  assert.deepEqual(only('stale'), [dead]);
  assert.deepEqual(only('running'), [live]);

  const shown = cli(['show', dead, '--db', URL_!]);
  assert.match(shown, new RegExp(`^run ${dead}  \\S+  stale  sweep `));
  const silent =
    /\nstale: stored as running by process 4242 on gone-node, no heartbeat for (\d+) s \(lease 300 s\); its process is probably gone\n/.exec(
      shown,
    );
  assert.ok(silent, shown);
  const since = (Date.now() - now) / 1000;
  assert.ok(Number(silent[1]) >= 412 && Number(silent[1]) <= 413 + since, silent[1]);
  assert.match(cli(['show', live, '--db', URL_!]), new RegExp(`^run ${live}  \\S+  running  sweep `));
  assert.equal((JSON.parse(cli(['show', dead, '--json', '--db', URL_!])) as { stale: boolean }).stale, true);

  const status = cli(['sweep', 'status', fx.sweep, '--db', URL_!]);
  assert.match(
    status,
    /: 1 done, 1 running, 0 queued, 0 interrupted, 0 failed, 1 stale \(running, no heartbeat within the lease\)\n/,
  );
  const m = /\ntastgram\s+stale\s+silent (\d+)m(\d\d)s/.exec(status);
  assert.ok(m, status);
  const seconds = Number(m[1]) * 60 + Number(m[2]);
  assert.ok(seconds >= 412 && seconds <= 413 + (Date.now() - now) / 1000, status);
  assert.match(status, /\nfull\/seed=1\s+running\s/);

  // A role that may only SELECT sees the same.
  await sql(URL_!, 'CREATE ROLE exp_select_only LOGIN').catch((e: Error) => assert.match(e.message, /already exists/));
  await sql(URL_!, 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO exp_select_only');
  const reader = URL_!.replace('//postgres@', '//exp_select_only@');
  assert.equal(cli(['runs', '--sweep', fx.sweep, '--db', reader]), table);
  assert.match(cli(['sweep', 'status', fx.sweep, '--db', reader]), /\ntastgram\s+stale\s/);

  // Nothing was written: the rows are as the "workers" left them.
  assert.deepEqual(
    await sql(
      URL_!,
      'SELECT id, status, host, pid, heartbeat_at, finished_at, error FROM runs WHERE sweep = $1 ORDER BY id',
      [fx.sweep],
    ),
    before,
  );
});

test('exp run --resume takes over a run whose lease ran out, and still refuses one whose worker is alive', async () => {
  const fx = reportStore({ sweep: `takeover-${Date.now().toString(36)}` });
  assert.equal(spawnSync(process.execPath, [CLI, 'db', 'copy', fx.db, URL_!]).status, 0);
  const [dead, live] = (await sql(URL_!, 'SELECT id FROM runs WHERE sweep = $1 ORDER BY trial_index', [fx.sweep])).map(
    (r) => String(r.id),
  ) as [string, string];
  const now = Date.now();
  const running = `UPDATE runs SET status = 'running', host = $1, pid = $2, heartbeat_at = $3, finished_at = NULL WHERE id = $4`;
  await sql(URL_!, running, ['gone-node', 4242, now - 412_000, dead]);
  await sql(URL_!, running, ['busy-node', 4243, now, live]);
  const store = await openRunStore(URL_!);
  try {
    await assert.rejects(
      store.resumeRun(live),
      (e: unknown) => e instanceof UserError && /is running in process 4243 on busy-node/.test(e.message),
    );
    const lease = await store.resumeRun(dead);
    assert.equal(lease.run.status, 'running');
    assert.equal(lease.run.pid, process.pid, "the run is now this process's");
  } finally {
    await store.close();
  }
});
