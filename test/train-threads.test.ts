import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sweepThreads, defaultThreads, initBackend, xnnpackThreads } from '../src/backend/select.js';
import { UserError } from '../src/util/errors.js';

// Trials of a sweep run side by side at one thread each (exp sweep --concurrency 2 on 2 cores):
// that is only the same experiment if the thread count leaves every number as it was.
const CLI = join(process.cwd(), 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'exp-threads-'));
const db = join(dir, 'runs', 'exp.db');

function exp(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, EXP_THREADS: '', ...env },
  });
}

test('a run trains to bit-identical losses and scores at 1 and 2 wasm threads', () => {
  const data = join(dir, 'data');
  const synth = ['data', 'synth', '--out', data, '--types', 'fan,pump', '--ids', '2', '--train', '8'];
  assert.equal(exp([...synth, '--test', '4', '--seconds', '2']).status, 0);
  const file = join(dir, 'full.yaml');
  // The full FGASpecNet on 2 s clips in batches of 16: products large enough to be split over threads.
  writeFileSync(
    file,
    `name: full\nseed: 2\ndata: {root: ${data}, seconds: 2}\ntrain: {epochs: 1, batchSize: 16, lr: 0.001}\n`,
  );
  const ids: string[] = [];
  for (const [args, env] of [
    [['--threads', '1'], {}],
    [[], { EXP_THREADS: '2' }],
  ] as const) {
    const r = exp(['run', file, '--db', db, '--json', '--backend', 'wasm', ...args], env);
    assert.equal(r.status, 0, r.stderr);
    ids.push((JSON.parse(r.stdout) as { id: string }).id);
  }
  const d = new Database(db, { readonly: true });
  const threads = ids.map(
    (id) => (d.prepare('SELECT threads FROM runs WHERE id = ?').get(id) as { threads: number }).threads,
  );
  assert.deepEqual(threads, [1, 2]);
  const curve = (id: string) => d.prepare('SELECT epoch, loss FROM epochs WHERE run_id = ? ORDER BY epoch').all(id);
  const scores = (id: string) => d.prepare('SELECT path, score FROM scores WHERE run_id = ? ORDER BY path').all(id);
  assert.ok(scores(ids[0]!).length === 16);
  assert.deepEqual(curve(ids[1]!), curve(ids[0]!));
  assert.deepEqual(scores(ids[1]!), scores(ids[0]!));
  d.close();
});

test('threads: EXP_THREADS, else 2; a sweep shares the cores out between its concurrent trials', async () => {
  assert.equal(defaultThreads({}), 2);
  assert.equal(defaultThreads({ EXP_THREADS: '3' }), 3);
  assert.throws(() => defaultThreads({ EXP_THREADS: '0' }), /EXP_THREADS expects a whole number >= 1, got '0'/);
  assert.equal(sweepThreads(1, 2), undefined);
  assert.equal(sweepThreads(2, 2), 1);
  assert.equal(sweepThreads(3, 2), 1);
  assert.equal(sweepThreads(2, 8), 2);
  // XNNPACK's own pool (tfjs's remaining element-wise ops) keeps one thread unless asked.
  assert.equal(xnnpackThreads(2, {}), 1);
  assert.equal(xnnpackThreads(4, { EXP_XNNPACK_THREADS: '2' }), 2);
  assert.equal(xnnpackThreads(1, { EXP_XNNPACK_THREADS: '2' }), 1);
  assert.throws(
    () => xnnpackThreads(2, { EXP_XNNPACK_THREADS: 'x' }),
    /EXP_XNNPACK_THREADS expects a whole number >= 1/,
  );
  // Refused before any set-up, so \`auto\` cannot quietly fall back to the cpu backend over it.
  process.env['EXP_XNNPACK_THREADS'] = '0';
  await assert.rejects(
    initBackend('auto'),
    (e: unknown) => e instanceof UserError && /EXP_XNNPACK_THREADS/.test(e.message),
  );
  delete process.env['EXP_XNNPACK_THREADS'];
  const r = exp(['run', 'x.yaml', '--threads', '0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--threads/);
});
