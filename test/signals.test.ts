import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { synthTinySet, writeExperiment } from './fixtures/experiment.js';

// Ctrl-C and SIGTERM during real training (tfjs wasm, the full model on 1 s clips): seen within a
// step, the progress checkpointed, the run marked interrupted, exit 130 / 143; a second Ctrl-C
// leaves at once. Signals go to the node process itself or through a real pseudo-terminal. The time
// limit is loose (the suite runs beside other training jobs); a 20-epoch run that ignored the signal
// would take minutes. Quiet-machine timings are printed as '# ... ms' lines.
const CLI = join(process.cwd(), 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'exp-signals-'));
const data = join(dir, 'data');
const db = join(dir, 'runs', 'exp.db');
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(() => synthTinySet(data));

/** 6 steps per epoch of 2 micro-batches each, so a signal can land inside a step. */
const experiment = (name: string, epochs: number): string =>
  writeExperiment(dir, {
    name,
    seed: 5,
    data,
    train: { epochs, batchSize: 4, microBatch: 2, lr: 0.001, checkpointEvery: 10 },
  });

function row(id: string): { status: string; error: string | null } {
  const d = new Database(db, { readonly: true });
  const r = d.prepare('SELECT status, error FROM runs WHERE id = ?').get(id) as {
    status: string;
    error: string | null;
  };
  d.close();
  return r;
}

function finalScores(id: string): Array<{ path: string; score: number }> {
  const d = new Database(db, { readonly: true });
  const rows = d
    .prepare('SELECT path, score FROM scores WHERE run_id = ? AND final = 1 ORDER BY path')
    .all(id) as Array<{ path: string; score: number }>;
  d.close();
  return rows;
}

const exp = (args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--db', db], { encoding: 'utf8' });

/** Starts `exp run` directly (not through npx); `when` fires once stderr matches. */
function startRun(file: string, when: RegExp, act: (pid: number) => void) {
  const child = spawn(process.execPath, [CLI, 'run', file, '--db', db, '--backend', 'wasm'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let sentAt = 0;
  child.stderr.on('data', (d: Buffer) => {
    const had = when.test(stderr);
    stderr += d;
    if (!had && when.test(stderr)) {
      setTimeout(() => {
        sentAt = performance.now();
        act(child.pid!);
      }, 1500);
    }
  });
  return new Promise<{ code: number | null; stderr: string; ms: number; id: string }>((res) =>
    child.on('exit', (code) =>
      res({ code, stderr, ms: performance.now() - sentAt, id: /run (\S+) \(/.exec(stderr)?.[1] ?? '' }),
    ),
  );
}

test('kill -INT on the node process mid-epoch: checkpoint, interrupted, exit 130 within seconds', async () => {
  const r = await startRun(experiment('int', 20), /epoch 1\/20 +loss/, (pid) => process.kill(pid, 'SIGINT'));
  process.stderr.write(`# SIGINT -> exit: ${r.ms.toFixed(0)} ms\n`);
  assert.equal(r.code, 130, r.stderr);
  assert.ok(r.ms < 15_000, `exited ${r.ms.toFixed(0)} ms after SIGINT`);
  assert.match(r.stderr, /interrupted; continue it with: exp run --resume/);
  assert.deepEqual(row(r.id), { status: 'interrupted', error: 'interrupted (SIGINT)' });
  const d = new Database(db, { readonly: true });
  const cp = d.prepare('SELECT epoch, path FROM checkpoints WHERE run_id = ?').all(r.id) as Array<{
    epoch: number;
    path: string;
  }>;
  d.close();
  assert.equal(cp.length, 1, 'the progress of the interrupted epoch was checkpointed');
  assert.ok(existsSync(join(cp[0]!.path, 'meta.json')));
});

test('SIGTERM: the same, exit 143', async () => {
  const r = await startRun(experiment('term', 20), /epoch 1\/20 +loss/, (pid) => process.kill(pid, 'SIGTERM'));
  process.stderr.write(`# SIGTERM -> exit: ${r.ms.toFixed(0)} ms\n`);
  assert.equal(r.code, 143, r.stderr);
  assert.ok(r.ms < 15_000, `exited ${r.ms.toFixed(0)} ms after SIGTERM`);
  assert.deepEqual(row(r.id), { status: 'interrupted', error: 'interrupted (SIGTERM)' });
});

test('a second Ctrl-C exits at once; the run is still resumable', async () => {
  const r = await startRun(experiment('twice', 20), /epoch 1\/20 +loss/, (pid) => {
    process.kill(pid, 'SIGINT');
    process.kill(pid, 'SIGINT');
  });
  assert.equal(r.code, 130, r.stderr);
  assert.ok(r.ms < 15_000, `exited ${r.ms.toFixed(0)} ms after the second SIGINT`);
  // Whether or not the first stop got to write its row, the next open sees the pid gone.
  const listed = (JSON.parse(exp(['runs', '--json']).stdout) as Array<{ id: string; status: string }>).find(
    (x) => x.id === r.id,
  );
  assert.equal(listed?.status, 'interrupted');
});

test('Ctrl-C in a real terminal mid-epoch, then --resume: the same scores as an uninterrupted run', async () => {
  const file = experiment('pty', 2);
  const cmd = `${q(process.execPath)} ${q(CLI)} run ${q(file)} --db ${q(db)} --backend wasm`;
  // util-linux `script` runs the command on a pty; ^C written to it reaches the process group as SIGINT.
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let sentAt = 0;
  child.stdout.on('data', (d: Buffer) => {
    const had = /epoch 2\/2  step 2\//.test(out);
    out += d;
    if (!had && /epoch 2\/2  step 2\//.test(out)) {
      sentAt = performance.now();
      child.stdin.write('\x03');
    }
  });
  const code = await new Promise<number | null>((res) => child.on('exit', res));
  const ms = performance.now() - sentAt;
  process.stderr.write(`# Ctrl-C (pty) -> exit: ${ms.toFixed(0)} ms\n`);
  assert.equal(code, 130, out);
  assert.ok(sentAt > 0 && ms < 15_000, `exited ${ms.toFixed(0)} ms after ^C`);
  const id = /run (\S+) \(pty\)/.exec(out)?.[1] ?? '';
  assert.equal(row(id).status, 'interrupted');
  const d = new Database(db, { readonly: true });
  const epochs = d.prepare('SELECT epoch FROM epochs WHERE run_id = ?').pluck().all(id);
  const cps = d.prepare('SELECT epoch FROM checkpoints WHERE run_id = ?').pluck().all(id);
  const stored: unknown = d.prepare('SELECT * FROM epochs WHERE run_id = ? AND epoch = 1').get(id);
  d.close();
  assert.deepEqual(epochs, [1], 'stopped inside epoch 2');
  assert.deepEqual(cps, [2], 'the steps of epoch 2 were checkpointed');
  const resumed = exp(['run', '--resume', id, '--json']);
  assert.equal(resumed.status, 0, resumed.stderr);
  // startEpoch below is read from the checkpoint: epoch 1's row (with its measured time) coming
  // through unchanged shows the weights were restored rather than trained again from the seed.
  const d1 = new Database(db, { readonly: true });
  assert.deepEqual(d1.prepare('SELECT * FROM epochs WHERE run_id = ? AND epoch = 1').get(id), stored);
  d1.close();
  const d2 = new Database(db, { readonly: true });
  const info = JSON.parse(d2.prepare('SELECT info FROM runs WHERE id = ?').pluck().get(id) as string) as {
    startEpoch: number;
  };
  d2.close();
  assert.equal(info.startEpoch, 2, 'the resume continued inside epoch 2 instead of starting over');
  const whole = JSON.parse(exp(['run', file, '--json', '--backend', 'wasm']).stdout) as { id: string };
  const a = finalScores(id);
  assert.equal(a.length, 16);
  assert.deepEqual(a, finalScores(whole.id));
});

test('a sweep under a real terminal: Ctrl-C stops the running trial inside its epoch, checkpointed and interrupted, exit 130', async () => {
  // 20 epochs: on a quiet machine with today's kernels a 2-epoch trial finished within the second
  // between its first epoch line and the ^C, and the test then saw it done.
  const base = experiment('swbase', 20);
  const file = join(dir, 'sw.yaml');
  writeFileSync(
    file,
    `name: sw\nbase: ${base}\ntrials:\n  - name: a\n    set: {seed: 1}\n  - name: b\n    set: {seed: 2}\n`,
  );
  const cmd = `${q(process.execPath)} ${q(CLI)} sweep ${q(file)} --db ${q(db)} --backend wasm --no-dashboard --concurrency 1`;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let sentAt = 0;
  child.stdout.on('data', (d: Buffer) => {
    const had = /a: epoch 1\/20/.test(out);
    out += d;
    if (!had && /a: epoch 1\/20/.test(out)) {
      setTimeout(() => {
        sentAt = performance.now();
        child.stdin.write('\x03');
      }, 1000);
    }
  });
  const code = await new Promise<number | null>((res) => child.on('exit', res));
  const ms = performance.now() - sentAt;
  process.stderr.write(`# Ctrl-C (pty) on a sweep -> exit: ${ms.toFixed(0)} ms\n`);
  assert.equal(code, 130, out);
  assert.ok(sentAt > 0 && ms < 15_000, `exited ${ms.toFixed(0)} ms after ^C`);
  const d = new Database(db, { readonly: true });
  const rows = d
    .prepare(
      `SELECT trial, status, error, (SELECT group_concat(epoch) FROM checkpoints c WHERE c.run_id = r.id) AS cps FROM runs r WHERE sweep = 'sw' ORDER BY trial`,
    )
    .all();
  d.close();
  // The stop lands a second after epoch 1 ended (its applied steps checkpointed under the epoch it
  // stopped in) or, on a slow machine, before epoch 1's first step ends (then epoch 1, never
  // checkpointed by checkpointEvery: 10, is): one checkpoint, well before the periodic one at 10.
  assert.match(String((rows[0] as { cps: string }).cps), /^[1-9]$/);
  assert.deepEqual(
    rows.map((r) => ({ ...(r as object), cps: undefined })),
    [
      { trial: 'a', status: 'interrupted', error: 'interrupted (SIGINT)', cps: undefined },
      { trial: 'b', status: 'queued', error: null, cps: undefined },
    ],
  );
});

test('sweep: SIGTERM to the orchestrator exits 143; SIGTERM to one trial process interrupts that trial only', async () => {
  const { sweepDir, fakeEnv, runCli } = await import('./fixtures/sweep-env.js');
  // 100 ms steps, 8 epochs of 4 steps: a trial lasts seconds, so the signal lands while it trains.
  // One trial at a time: the second is still queued when the first is stopped, and one process trains.
  const a = sweepDir({ trials: 2, epochs: 8 });
  const r1 = await runCli(['sweep', a.sweep, '--db', a.db, '--no-dashboard', '--concurrency', '1'], fakeEnv(100), {
    pattern: /t0: epoch 2\/8/,
    then: (c) => c.kill('SIGTERM'),
  }).done;
  assert.equal(r1.code, 143, r1.stderr);
  const d1 = new Database(a.db, { readonly: true });
  assert.deepEqual(d1.prepare('SELECT trial, status, error FROM runs ORDER BY trial').all(), [
    { trial: 't0', status: 'interrupted', error: 'interrupted (SIGTERM)' },
    { trial: 't1', status: 'queued', error: null },
  ]);
  d1.close();

  const b = sweepDir({ trials: 2, epochs: 8 });
  const r2 = await runCli(['sweep', b.sweep, '--db', b.db, '--no-dashboard', '--concurrency', '1'], fakeEnv(100), {
    pattern: /t0: epoch 2\/8/,
    then: (c) => {
      const kids = spawnSync('pgrep', ['-P', String(c.pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
      assert.equal(kids.length, 1, 'one trial process');
      process.kill(kids[0]!, 'SIGTERM');
    },
  }).done;
  assert.equal(r2.code, 0, r2.stderr);
  const d2 = new Database(b.db, { readonly: true });
  assert.deepEqual(d2.prepare('SELECT trial, status, error FROM runs ORDER BY trial').all(), [
    { trial: 't0', status: 'interrupted', error: 'interrupted (SIGTERM)' },
    { trial: 't1', status: 'done', error: null },
  ]);
  d2.close();
});
