// Per-trial overhead of a sweep on Slurm against the same sweep run locally, and what each fault
// costs, measured on a one-node Slurm cluster with PostgreSQL: `npm run bench:cluster` (starts and
// stops both, tools/cluster/bench.sh) or, with services already up,
// `SLURM_CONF=... node --import tsx bench/cluster-overhead.ts postgres://...`.
// Trials use the fake trainer (fixed work: 3 epochs x 4 steps x 50 ms), so what is measured is
// exp's and Slurm's overhead, not training. Needs the built CLI (npm run build).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { sweepDir, fakeEnv, CLI } from '../test/fixtures/sweep-env.js';

const URL_ = process.argv[2];
if (!URL_ || !process.env.SLURM_CONF) {
  console.error(
    'usage: SLURM_CONF=... node --import tsx bench/cluster-overhead.ts postgres://...   (or npm run bench:cluster)',
  );
  process.exit(1);
}
let client: pg.Client;
async function reconnect(): Promise<void> {
  await client?.end().catch(() => undefined);
  client = new pg.Client({ connectionString: URL_ });
  client.on('error', () => undefined);
  await client.connect();
}
await reconnect();
const q = async (sql: string, args: unknown[] = []) =>
  (await client.query(sql, args)).rows as Array<Record<string, unknown>>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : Number.NaN);
const s1 = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
let seq = 0;

function makeSweep(trials: number, epochs: number) {
  const s = sweepDir({ trials, epochs });
  const name = `bench-${process.pid}-${++seq}`;
  const file = join(s.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nbase: base.yaml\ntrials:\n${Array.from({ length: trials }, (_, i) => `  - {name: t${i}, set: {seed: ${i}}}\n`).join('')}`,
  );
  return { ...s, name, file, art: join(s.dir, 'art') };
}

function cli(args: string[], stepMs: number) {
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env: fakeEnv(stepMs), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const done = new Promise<{ code: number | null; ms: number; stderr: string }>((res) =>
    child.on('exit', (code) => res({ code, ms: Date.now() - t0, stderr: err })),
  );
  return { done, t0 };
}

async function expectOk(p: Promise<{ code: number | null; ms: number; stderr: string }>): Promise<number> {
  const r = await p;
  if (r.code !== 0) throw new Error(`exp exited ${r.code}:\n${r.stderr}`);
  return r.ms;
}

const trialTimes = async (name: string) =>
  (await q(`SELECT trial, started_at, finished_at FROM runs WHERE sweep = $1 ORDER BY started_at`, [name])).map(
    (r) => ({
      trial: String(r.trial),
      start: Date.parse(String(r.started_at)),
      end: Date.parse(String(r.finished_at)),
    }),
  );

const epochCount = async (name: string, trial: string) =>
  Number(
    (
      await q(
        `SELECT COUNT(*)::int AS n FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.sweep = $1 AND r.trial = $2`,
        [name, trial],
      )
    )[0]!.n,
  );

async function waitFor<T>(fn: () => Promise<T | null | false>, seconds = 120): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}

function taskOf(art: string, trial: string): string {
  const dir = join(art, 'slurm');
  const f = readdirSync(dir).find(
    (x) => x.endsWith('.out') && readFileSync(join(dir, x), 'utf8').includes(`: ${trial}: started run`),
  )!;
  return f.replace(/\.out$/, '');
}

// --- 1. overhead per trial: the same 6-trial sweep, concurrency 1, locally and on Slurm -------
const N = 6;
const STEP = 50;
const work = 3 * 4 * STEP; // ms of "training" per trial
console.log(`sweep of ${N} trials, concurrency 1, fake trainer with ${work} ms of work per trial`);
for (const [label, db] of [
  ['local, SQLite', 'sqlite'],
  ['local, PostgreSQL', 'pg'],
] as const) {
  const s = makeSweep(N, 3);
  const ms = await expectOk(cli(['sweep', s.file, '--db', db === 'pg' ? URL_ : s.db, '--no-dashboard'], STEP).done);
  console.log(
    `  ${label.padEnd(22)} wall ${s1(ms).padStart(8)}   per trial ${s1(ms / N)}   overhead per trial ${s1(ms / N - work)}`,
  );
}
{
  const s = makeSweep(N, 3);
  const run = cli(['sweep', s.file, '--executor', 'slurm', '--db', URL_, '--artifacts', s.art, '--no-dashboard'], STEP);
  const ms = await expectOk(run.done);
  const job = (await q(`SELECT submitted_at FROM sweep_jobs WHERE sweep = $1`, [s.name]))[0]!;
  const submitted = Date.parse(String(job.submitted_at));
  const t = await trialTimes(s.name);
  const gaps = t.slice(1).map((x, i) => x.start - t[i]!.end);
  console.log(
    `  ${'Slurm, PostgreSQL'.padEnd(22)} wall ${s1(ms).padStart(8)}   per trial ${s1(ms / N)}   overhead per trial ${s1(ms / N - work)}`,
  );
  console.log(
    `    submit -> first trial started ${s1(t[0]!.start - submitted)} (sbatch, scheduling, node + exp start, preflight, claim)`,
  );
  console.log(`    trial end -> next trial started in the same worker: median ${s1(median(gaps))} (claim + preflight)`);
  console.log(
    `    last trial finished -> orchestrator exit ${s1(run.t0 + ms - t.at(-1)!.end)} (the array's empty tasks start, find nothing, end)`,
  );
}

// --- 2. faults: 4 trials x 6 epochs, concurrency 2 ----------------------------------------------
console.log('\nfaults (4 trials x 6 epochs, concurrency 2, 150 ms per step):');
async function fault(
  label: string,
  extra: string[],
  act: (s: ReturnType<typeof makeSweep>) => Promise<string>,
): Promise<void> {
  const s = makeSweep(4, 6);
  const run = cli(
    [
      'sweep',
      s.file,
      '--executor',
      'slurm',
      '--db',
      URL_,
      '--artifacts',
      s.art,
      '--no-dashboard',
      '--concurrency',
      '2',
      ...extra,
    ],
    150,
  );
  await waitFor(async () => (await epochCount(s.name, 't0')) >= 3);
  const what = await act(s);
  const ms = await expectOk(run.done);
  console.log(`  ${label}: ${what}; sweep wall ${s1(ms)}`);
}

const resumeOf = async (name: string, since: number) =>
  waitFor(async () => {
    const r = (await q(`SELECT started_at, status FROM runs WHERE sweep = $1 AND trial = 't0'`, [name]))[0]!;
    const at = Date.parse(String(r.started_at));
    // A resume that already finished between two looks counts too.
    return (r.status === 'running' || r.status === 'done') && at > since ? at : null;
  });

{
  const s = makeSweep(4, 6);
  const base = await expectOk(
    cli(
      [
        'sweep',
        s.file,
        '--executor',
        'slurm',
        '--db',
        URL_,
        '--artifacts',
        s.art,
        '--no-dashboard',
        '--concurrency',
        '2',
      ],
      150,
    ).done,
  );
  console.log(`  no fault: sweep wall ${s1(base)}`);
}
await fault('scancel of the task running t0', [], async (s) => {
  const t = Date.now();
  spawnSync('scancel', [taskOf(s.art, 't0')]);
  const stopped = await waitFor(async () =>
    (await q(`SELECT status FROM runs WHERE sweep = $1 AND trial = 't0'`, [s.name]))[0]!.status === 'interrupted'
      ? Date.now()
      : null,
  );
  const resumed = await resumeOf(s.name, t);
  return `marked interrupted after ${s1(stopped - t)}, resumed from its checkpoint ${s1(resumed - t)} after scancel`;
});
await fault('kill -9 of the worker running t0 (same host: dead pid seen at once)', [], async (s) => {
  const r = (await q(`SELECT pid FROM runs WHERE sweep = $1 AND trial = 't0'`, [s.name]))[0]!;
  const t = Date.now();
  process.kill(Number(r.pid), 'SIGKILL');
  const resumed = await resumeOf(s.name, t);
  return `resumed ${s1(resumed - t)} after the kill`;
});
await fault('kill -9 of a worker on "another host" (--lease 10)', ['--lease', '10'], async (s) => {
  const r = (await q(`SELECT id, pid FROM runs WHERE sweep = $1 AND trial = 't0'`, [s.name]))[0]!;
  const t = Date.now();
  process.kill(Number(r.pid), 'SIGKILL');
  await client.query(`UPDATE runs SET host = 'elsewhere' WHERE id = $1`, [r.id]);
  const beat = Number((await q('SELECT heartbeat_at FROM runs WHERE id = $1', [r.id]))[0]!.heartbeat_at);
  const resumed = await resumeOf(s.name, t);
  return `taken over ${s1(resumed - beat)} after its last heartbeat (${s1(resumed - t)} after the kill)`;
});
await fault('SIGUSR1 with --requeue (the warning before a time limit)', ['--requeue'], async (s) => {
  const task = taskOf(s.art, 't0');
  const t = Date.now();
  spawnSync('scancel', ['--batch', '--signal=USR1', task]);
  const resumed = await resumeOf(s.name, t);
  return `checkpointed and requeued; t0 resumed ${s1(resumed - t)} after the signal (by whichever worker claimed it first)`;
});
await fault('PostgreSQL restart (pg_ctl restart)', [], async (s) => {
  const before = Number(
    (await q(`SELECT COUNT(*)::int AS n FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.sweep = $1`, [s.name]))[0]!
      .n,
  );
  const t = Date.now();
  const r = spawnSync('bash', ['tools/cluster/pg.sh', 'restart', process.env.EXP_BENCH_PG_DIR ?? ''], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`pg.sh restart: ${r.stderr} (set EXP_BENCH_PG_DIR)`);
  const down = Date.now() - t;
  await reconnect();
  const next = await waitFor(async () =>
    Number(
      (
        await q(`SELECT COUNT(*)::int AS n FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.sweep = $1`, [s.name])
      )[0]!.n,
    ) > before
      ? Date.now()
      : null,
  );
  return `pg_ctl restart took ${s1(down)}; the next epoch row was stored ${s1(next - t)} after the restart began`;
});
await client.end().catch(() => undefined);
