import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import Database from 'better-sqlite3';
import { saveCheckpoint, loadCheckpoint, removeCheckpointLeftovers } from '../src/train/checkpoint.js';
import { writerTag } from '../src/util/temp-paths.js';
import { synthTinySet, writeExperiment } from './fixtures/experiment.js';

// A checkpoint save killed while writing (kill -9 of a real process stopped inside the save, after
// tensors.bin and before meta.json) leaves its temporary directory; the next save or resume on the
// same machine removes it, and never the directory of a writer that is still alive, of another
// host (another writer tag) or an old-style `<dir>.tmp-<pid>` whose host is unknown.
const CLI = resolve('dist/cli/main.js');
const STALL = resolve('test/fixtures/stall-save.mjs');
const SAVER_ARGS = (dir: string) => ['--import', 'tsx', resolve('test/fixtures/save-checkpoint.ts'), dir];
const root = mkdtempSync(join(tmpdir(), 'exp-ckpt-leftovers-'));
const data = join(root, 'data');

before(() => synthTinySet(data));

interface Stalled {
  child: ChildProcess;
  /** The temporary directory the stalled save is writing. */
  tmp: string;
  exited: Promise<unknown>;
}

/** Starts node with stall-save.mjs and `args`; resolves once the process is stopped inside a save. */
function stalled(args: string[], o: { cwd?: string; at?: number } = {}): Promise<Stalled> {
  const child = spawn(process.execPath, ['--import', STALL, ...args], {
    cwd: o.cwd ?? process.cwd(),
    env: { ...process.env, EXP_TEST_STALL_SAVE: String(o.at ?? 1) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  let stderr = '';
  return new Promise((res, rej) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      const m = /stalled in save: (.+)\n/.exec(stderr);
      if (m) res({ child, tmp: resolve(o.cwd ?? process.cwd(), m[1]!), exited });
    });
    child.once('exit', (code) => rej(new Error(`writer exited (${code}) before stalling:\n${stderr}`)));
  });
}

async function kill9(s: Stalled): Promise<void> {
  s.child.kill('SIGKILL');
  await s.exited;
}

const temporaries = (dir: string): string[] => readdirSync(dir).filter((n) => n.includes('.tmp-'));

test('a save killed while writing leaves its directory; the next save removes it, not a live writer’s, another host’s or an old-style one', async () => {
  const dir = join(root, 'unit');
  const last = join(dir, 'last');
  const w = new Map([['w', tf.ones([1000])]]);
  await saveCheckpoint(last, w, { epoch: 1 });

  const killed = await stalled(SAVER_ARGS(last));
  const killedPid = killed.child.pid!;
  await kill9(killed);
  assert.equal(dirname(killed.tmp), dir);
  assert.ok(basename(killed.tmp).startsWith(`last.tmp-${killedPid}-`), killed.tmp);
  assert.ok(basename(killed.tmp).endsWith(`@${writerTag()}`), `${killed.tmp}: the same writer tag as this process`);
  assert.deepEqual(readdirSync(killed.tmp), ['tensors.bin'], 'a half-written checkpoint is left behind');

  const live = await stalled(SAVER_ARGS(last));
  const foreign = join(dir, `last.tmp-${killedPid}-0123abcd@elsewhere-000000000000`);
  const legacy = join(dir, `last.tmp-${killedPid}`);
  mkdirSync(foreign);
  mkdirSync(legacy);
  try {
    await saveCheckpoint(last, w, { epoch: 2 });
    assert.ok(!existsSync(killed.tmp), 'the killed writer’s directory is removed');
    assert.deepEqual(readdirSync(live.tmp), ['tensors.bin'], 'the live writer’s directory is untouched');
    assert.ok(existsSync(foreign), 'a directory of another host (its pid means nothing here) is kept');
    assert.ok(existsSync(legacy), 'an old-style name without a host is kept');
    assert.equal(loadCheckpoint<{ epoch: number }>(last).state.epoch, 2);
  } finally {
    await kill9(live);
  }
  // Once its writer is gone, the stalled writer's directory goes too.
  assert.deepEqual(removeCheckpointLeftovers(dir), [basename(live.tmp)]);
  assert.deepEqual(temporaries(dir).sort(), [basename(legacy), basename(foreign)].sort());
  tf.dispose([...w.values()]);
});

test('exp run killed inside a checkpoint save, then --resume: the leftover is gone, a live writer’s is not, the run finishes', async () => {
  const dir = join(root, 'cli');
  mkdirSync(dir);
  const db = join(dir, 'runs', 'exp.db');
  const file = writeExperiment(dir, {
    name: 'leftover',
    seed: 4,
    data,
    train: { epochs: 3, batchSize: 4, lr: 0.001, checkpointEvery: 1 },
  });
  // The second save (epoch 2's `last`) stops midway; epoch 1's checkpoint is complete.
  const run = await stalled([CLI, 'run', file, '--db', db, '--backend', 'wasm'], { cwd: dir, at: 2 });
  await kill9(run);
  const runDir = dirname(run.tmp);
  assert.ok(existsSync(join(runDir, 'last', 'meta.json')), 'epoch 1’s checkpoint is in place');
  assert.deepEqual(readdirSync(run.tmp), ['tensors.bin']);
  const d = new Database(db, { readonly: true });
  const id = d.prepare("SELECT id FROM runs WHERE name = 'leftover'").pluck().get() as string;
  d.close();

  // Another process of this machine writing into the same run directory while the resume runs.
  const live = await stalled(SAVER_ARGS(join(runDir, 'last')));
  try {
    const resumed = spawnSync(process.execPath, [CLI, 'run', '--resume', id, '--db', db, '--backend', 'wasm'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(temporaries(runDir), [basename(live.tmp)], 'only the live writer’s directory is left');
    assert.deepEqual(readdirSync(live.tmp), ['tensors.bin']);
  } finally {
    await kill9(live);
  }
  const d2 = new Database(db, { readonly: true });
  assert.equal(d2.prepare('SELECT status FROM runs WHERE id = ?').pluck().get(id), 'done');
  assert.deepEqual(d2.prepare('SELECT epoch FROM epochs WHERE run_id = ? ORDER BY epoch').pluck().all(id), [1, 2, 3]);
  d2.close();
});
