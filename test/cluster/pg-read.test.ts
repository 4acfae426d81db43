import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { reportStore } from '../fixtures/report-store.js';
import { sweepDir, fakeEnv, runCli, CLI } from '../fixtures/sweep-env.js';

// The reading commands on PostgreSQL against the same commands on SQLite. Run by `npm run
// test:cluster` (tools/cluster/test.sh), which starts a throwaway PostgreSQL 15 and sets
// EXP_TEST_PG_URL; without it this file fails, it never passes without having run.
const URL_ = process.env.EXP_TEST_PG_URL;

before(() => {
  assert.ok(URL_, 'EXP_TEST_PG_URL is not set: run these tests with npm run test:cluster');
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A sweep name not yet in the shared database (the suite may run twice against one server). */
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}`;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs `args` on both stores; both must succeed (or both fail alike) and print the same once `mask` is applied. */
function same(
  args: string[],
  sqlite: string,
  mask: (s: string, store: 'sqlite' | 'pg') => string,
  opts: { status?: number } = {},
) {
  const a = cli([...args, '--db', sqlite]);
  const b = cli([...args, '--db', URL_!]);
  const want = opts.status ?? 0;
  assert.equal(a.status, want, `sqlite: exp ${args.join(' ')}: ${a.stderr}`);
  assert.equal(b.status, want, `postgres: exp ${args.join(' ')}: ${b.stderr}`);
  assert.equal(mask(b.stdout, 'pg'), mask(a.stdout, 'sqlite'), `exp ${args.join(' ')}: stdout differs`);
  assert.equal(mask(b.stderr, 'pg'), mask(a.stderr, 'sqlite'), `exp ${args.join(' ')}: stderr differs`);
  return { sqlite: a, pg: b };
}

test('a SQLite store copied into PostgreSQL: runs, show, compare, metrics --run, export and report print exactly the same', () => {
  const fx = reportStore({ sweep: unique('rdcopy') });
  const copy = cli(['db', 'copy', fx.db, URL_!]);
  assert.equal(copy.status, 0, copy.stderr);
  // Only the --db value itself may differ (show's and report's hints name it).
  const mask = (s: string) =>
    s
      .replaceAll(URL_!, 'DB')
      .replaceAll(fx.db, 'DB')
      .replace(/store DB; generated [^.<]+\.\d+Z/g, 'store DB; generated T');
  const list = same(['runs', '--sweep', fx.sweep, '--json'], fx.db, mask);
  const runs = JSON.parse(list.pg.stdout) as Array<{ id: string; name: string; trial: string }>;
  assert.deepEqual(
    runs.map((r) => r.trial),
    fx.trials,
  );
  const [a, b, c] = runs.map((r) => r.id) as [string, string, string];
  same(['runs', '--sweep', fx.sweep], fx.db, mask);
  same(['show', a], fx.db, mask);
  same(['show', c, '--json'], fx.db, mask);
  // References by id, name and id prefix resolve alike.
  const byName = same(['show', runs[1]!.name], fx.db, mask);
  assert.match(byName.pg.stdout, new RegExp(`^run ${b} `));
  same(['show', `${fx.sweep}/full/seed=2`, '--scores'], fx.db, mask);
  same(['show', c.slice(0, -2)], fx.db, mask);
  same(['compare', a, b], fx.db, mask);
  same(['compare', a, c, '--json'], fx.db, mask);
  same(['compare', fx.sweep, '--md'], fx.db, mask);
  same(['compare', fx.sweep, '--json'], fx.db, mask);
  const m = same(['metrics', '--run', b, '--json'], fx.db, mask);
  assert.ok(JSON.parse(m.pg.stdout).average.auc > 0.5);
  same(['metrics', '--run', b], fx.db, mask);
  for (const f of ['md', 'csv', 'json']) same(['export', fx.sweep, a, '--format', f], fx.db, mask);
  // The HTML report: every figure, table and number, apart from the store's name and the time.
  const out = (x: string) => join(fx.dir, `report-${x}.html`);
  const lite = cli(['report', fx.sweep, a, '--out', out('sqlite'), '--db', fx.db]);
  const pg = cli(['report', fx.sweep, a, '--out', out('pg'), '--db', URL_!]);
  assert.equal(lite.status, 0, lite.stderr);
  assert.equal(pg.status, 0, pg.stderr);
  const html = (x: string) => mask(readFileSync(out(x), 'utf8'));
  assert.match(html('pg'), /<svg/);
  assert.ok(html('pg') === html('sqlite'), 'the HTML reports differ');
  // A bad reference is the same one-line user error on both.
  const bad = same(['show', 'no-such-run'], fx.db, mask, { status: 1 });
  assert.match(bad.pg.stderr, /no run with that id, name or trial name/);
  same(['compare', 'no-such-sweep'], fx.db, mask, { status: 1 });
});

test('a role that may only SELECT reads the store (opening writes nothing); a password in EXP_DB is never printed', async () => {
  const fx = reportStore({ sweep: unique('rdro') });
  assert.equal(cli(['db', 'copy', fx.db, URL_!]).status, 0);
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  try {
    await c.query('CREATE ROLE exp_select_only LOGIN').catch((e: Error) => assert.match(e.message, /already exists/));
    await c.query('GRANT SELECT ON ALL TABLES IN SCHEMA public TO exp_select_only');
  } finally {
    await c.end();
  }
  const reader = URL_!.replace('//postgres@', '//exp_select_only@');
  assert.notEqual(reader, URL_);
  for (const args of [
    ['runs', '--sweep', fx.sweep, '--json'],
    ['show', `${fx.sweep}/tastgram`],
    ['export', fx.sweep, '--format', 'csv'],
  ]) {
    const owner = cli([...args, '--db', URL_!]);
    const ro = cli([...args, '--db', reader]);
    assert.equal(ro.status, 0, `exp ${args.join(' ')} as a SELECT-only role: ${ro.stderr}`);
    assert.equal(ro.stdout.replaceAll(reader, 'DB'), owner.stdout.replaceAll(URL_!, 'DB'));
  }
  // EXP_DB as the default store, its password never repeated: not in show's report hint, not in errors.
  const secret = URL_!.replace('//postgres@', '//postgres:s3cret-pw@');
  const shown = cli(['show', `${fx.sweep}/tastgram`], { EXP_DB: secret });
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /exp report \S+ --out \S+\.html\n/);
  assert.doesNotMatch(shown.stdout + shown.stderr, /s3cret/);
  const missing = cli(['show', 'no-such-run'], { EXP_DB: secret });
  assert.equal(missing.status, 1);
  assert.doesNotMatch(missing.stderr, /s3cret/);
  // Writing still needs the rights it needs: one clear line, no stack trace.
  const w = cli(['db', 'copy', fx.db, reader]);
  assert.equal(w.status, 1, w.stderr);
  assert.match(w.stderr, /permission denied/);
  assert.doesNotMatch(w.stderr, /\n\s+at /);
});

test('a sweep recorded straight into PostgreSQL reads back like the same sweep recorded into SQLite', async () => {
  const s = sweepDir({ trials: 2, epochs: 3 });
  const name = unique('rdlive');
  const file = join(s.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nbase: base.yaml\nset: {train.evalEvery: 1}\ntrials:\n  - {name: t0, set: {seed: 0}, paper: {auc: 90, pauc: 80}}\n  - {name: t1, set: {seed: 1}, paper: {auc: 91, pauc: 81}}\n`,
  );
  const local = join(s.dir, 'local.db');
  const art = join(s.dir, 'art');
  const sweepOn = (db: string) =>
    runCli(['sweep', file, '--db', db, '--artifacts', art, '--no-dashboard'], fakeEnv(5)).done;
  const ra = await sweepOn(local);
  const rb = await sweepOn(URL_!);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);

  // Run ids, times, pids and per-epoch speed differ between the two recordings; nothing else may.
  const ids = (db: string) =>
    new Map(
      (
        JSON.parse(cli(['runs', '--sweep', name, '--json', '--db', db]).stdout) as Array<{ id: string; name: string }>
      ).map((r) => [r.id, r.name]),
    );
  const idsOf = { sqlite: ids(local), pg: ids(URL_!) };
  assert.deepEqual([...idsOf.pg.values()], [`${name}/t0`, `${name}/t1`]);
  const volatile = new Set(['createdAt', 'startedAt', 'finishedAt', 'heartbeatAt', 'pid', 'seconds', 'clipsPerSec']);
  const mask = (text: string, store: 'sqlite' | 'pg') => {
    let t = text.replaceAll(URL_!, 'DB').replaceAll(local, 'DB');
    for (const [id, run] of idsOf[store]) t = t.replace(new RegExp(escape(id), 'g'), `<${run}>`);
    t = t.replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+Z)?/g, 'TIME');
    if (!t.trimStart().startsWith('{') && !t.trimStart().startsWith('[')) return t;
    return JSON.stringify(
      JSON.parse(t, (k, v: unknown) => (volatile.has(k) ? undefined : v)),
      null,
      2,
    );
  };

  // The end-of-sweep summary table, printed by the sweep itself on each engine.
  const table = (stderr: string, store: 'sqlite' | 'pg') =>
    mask(stderr.slice(stderr.indexOf('\n  trial  status')), store);
  assert.match(rb.stderr, /\* t\d/);
  assert.equal(table(rb.stderr, 'pg'), table(ra.stderr, 'sqlite'));

  same(['runs', '--sweep', name, '--json'], local, mask);
  same(['show', `${name}/t1`, '--json'], local, mask);
  same(['show', `${name}/t0`, '--scores'], local, mask);
  // The text view, without the epoch table (its seconds and clips/s columns are wall-clock).
  const text = same(['show', `${name}/t0`], local, (t, store) =>
    mask(t, store)
      .split('\n')
      .filter((l) => !/^\s*\d+\s+\d/.test(l))
      .join('\n'),
  );
  assert.match(text.pg.stdout, /final evaluation \(epoch 3\)/);
  assert.match(text.pg.stdout, /eval at epoch 1: AUC/);
  same(['compare', `${name}/t0`, `${name}/t1`, '--json'], local, mask);
  same(['compare', `${name}/t0`, `${name}/t1`, '--md'], local, mask);
  same(['compare', name, '--json'], local, mask);
  same(['metrics', '--run', `${name}/t1`, '--json'], local, mask);
  for (const f of ['md', 'csv', 'json']) same(['export', name, '--format', f], local, mask);
  // The sweep summary's hint: the report reads PostgreSQL too.
  const html = (db: string, label: string) => {
    const out = join(s.dir, `${label}.html`);
    const r = cli(['report', name, '--out', out, '--db', db]);
    assert.equal(r.status, 0, r.stderr);
    const page = readFileSync(out, 'utf8');
    return page.match(/<script type="application\/json" id="exp-report-data">([\s\S]*?)<\/script>/)![1]!;
  };
  assert.equal(mask(html(URL_!, 'pg'), 'pg'), mask(html(local, 'sqlite'), 'sqlite'));
});
