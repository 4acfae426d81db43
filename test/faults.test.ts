import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sweepDir, fakeEnv, runCli } from './fixtures/sweep-env.js';
import { exp, assertOneLineUserError, tempDir, mountTmpfs, canChattr, notRun } from './fixtures/faults-env.js';
import { synthesize } from '../src/data/synth/generate.js';
import { saveCheckpoint, loadCheckpoint } from '../src/train/checkpoint.js';
import { checkAudio } from '../src/data/audio-check.js';
import { UserError } from '../src/util/errors.js';

/**
 * Fault injection: each fault of the user's input or environment ends in one clear
 * line and exit 1, nothing already stored or written by the user is lost, and read-only stores
 * stay readable. Cases that need root (tmpfs mounts, chattr +i) say loudly when they cannot run.
 */

/** `exp data synth` of one fan ID: 2 training and 2 test clips of 0.2 s unless told otherwise. */
function synthArgs(o: { train?: number; seconds?: number } = {}): string[] {
  const sizes = ['--train', String(o.train ?? 2), '--test', '2', '--seconds', String(o.seconds ?? 0.2)];
  return ['data', 'synth', '--types', 'fan', '--ids', '1', ...sizes];
}
const SYNTH = synthArgs();
const isRoot = process.getuid?.() === 0;

let shared: Promise<{ dir: string; db: string }> | null = null;

/**
 * A store with two finished runs of sweep "tiny" (fake trainer), made once and shared: tests that
 * change the file itself (chattr, read-only media) work on copies.
 */
function storeWithRuns(): Promise<{ dir: string; db: string }> {
  shared ??= (async () => {
    const { dir, sweep, db } = sweepDir({ trials: 2, epochs: 2 });
    const r = await runCli(['sweep', sweep, '--db', db, '--no-dashboard'], fakeEnv(5)).done;
    assert.equal(r.code, 0, r.stderr);
    return { dir, db };
  })();
  return shared;
}

// ---- 1. data loss ----------------------------------------------------------------------------

test('synth --out never deletes what a synth did not write; replaces its own set', () => {
  const d = join(tempDir('synth'), 'd');
  assert.equal(exp([...SYNTH, '--out', d]).code, 0);
  writeFileSync(join(d, 'NOTES.txt'), 'mine\n');
  mkdirSync(join(d, 'results'));
  writeFileSync(join(d, 'exp.db'), 'a store kept next to the data');
  const r = exp([...SYNTH, '--out', d]);
  assertOneLineUserError(r, /NOTES\.txt.*results|exp\.db/, 'synth over user files');
  assert.equal(readFileSync(join(d, 'NOTES.txt'), 'utf8'), 'mine\n', 'NOTES.txt kept');
  assert.ok(existsSync(join(d, 'results')) && existsSync(join(d, 'exp.db')), 'results/ and exp.db kept');
  // A user file deep inside the set counts too.
  execFileSync('rm', ['-r', join(d, 'NOTES.txt'), join(d, 'results'), join(d, 'exp.db')]);
  writeFileSync(join(d, 'fan', 'train', 'my-recording.wav'), 'x');
  assertOneLineUserError(exp([...SYNTH, '--out', d]), /my-recording\.wav/, 'user file inside the set');
  execFileSync('rm', [join(d, 'fan', 'train', 'my-recording.wav')]);
  // Only its own files: replaced, with fewer clips now (no stale clips left from the old set).
  assert.equal(exp([...synthArgs({ train: 1 }), '--out', d]).code, 0);
  assert.deepEqual(readdirSync(join(d, 'fan', 'train')), ['normal_id_00_00000000.wav']);
  const manifest = JSON.parse(readFileSync(join(d, 'synth.json'), 'utf8')) as { files: string[]; complete: boolean };
  assert.equal(manifest.complete, true);
  assert.equal(manifest.files.length, 3);
  // A non-empty folder without a synth manifest is refused, a regular file too.
  const other = tempDir('synth-other');
  writeFileSync(join(other, 'a.txt'), 'x');
  assertOneLineUserError(exp([...SYNTH, '--out', other]), /not empty/, 'foreign folder');
  assert.ok(existsSync(join(other, 'a.txt')));
  assertOneLineUserError(exp([...SYNTH, '--out', join(other, 'a.txt')]), /not a directory/, '--out onto a file');
});

test('export --out / --chart and features --png never overwrite a file exp did not write', async () => {
  const { dir, db } = await storeWithRuns();
  const mine = join(dir, 'table.md');
  writeFileSync(mine, 'my notes\n');
  assertOneLineUserError(
    exp(['export', 'tiny', '--format', 'md', '--out', mine, '--db', db]),
    /table\.md.*not written by exp/,
    'export over a user file',
  );
  assert.equal(readFileSync(mine, 'utf8'), 'my notes\n');
  // Its own output can be written again; a user's edit since makes it the user's.
  const out = join(dir, 'ours.md');
  assert.equal(exp(['export', 'tiny', '--format', 'md', '--out', out, '--db', db]).code, 0);
  assert.equal(
    exp(['export', 'tiny', '--format', 'md', '--out', out, '--db', db]).code,
    0,
    'exp may replace its own unchanged output',
  );
  writeFileSync(out, `${readFileSync(out, 'utf8')}\nedited by hand\n`);
  const later = new Date(Date.now() + 5000);
  utimesSync(out, later, later);
  assertOneLineUserError(
    exp(['export', 'tiny', '--format', 'md', '--out', out, '--db', db]),
    /changed since/,
    'export over an edited export',
  );
  assert.match(readFileSync(out, 'utf8'), /edited by hand/);
  // The chart is checked before anything is written: a user's SVG blocks the whole export.
  writeFileSync(join(dir, 'user.svg'), '<svg/>');
  assertOneLineUserError(
    exp([
      'export',
      'tiny',
      '--format',
      'csv',
      '--out',
      join(dir, 'new.csv'),
      '--chart',
      join(dir, 'user.svg'),
      '--db',
      db,
    ]),
    /--chart/,
    'chart over a user file',
  );
  assert.ok(!existsSync(join(dir, 'new.csv')), 'nothing written when one output is refused');
  // Missing directory, a directory as the file.
  assertOneLineUserError(
    exp(['export', 'tiny', '--format', 'md', '--out', join(dir, 'nope', 't.md'), '--db', db]),
    /does not exist/,
    'export into a missing directory',
  );
  assertOneLineUserError(
    exp(['export', 'tiny', '--format', 'md', '--out', dir, '--db', db]),
    /is a directory/,
    'export onto a directory',
  );
  // features --png
  const data = join(dir, 'data');
  const wav = join(data, 'fan', 'train', 'normal_id_00_00000000.wav');
  writeFileSync(join(dir, 'pic.png'), 'user image');
  assertOneLineUserError(
    exp(['features', wav, '--png', join(dir, 'pic.png')]),
    /pic\.png/,
    'features --png over a user file',
  );
  assert.equal(readFileSync(join(dir, 'pic.png'), 'utf8'), 'user image');
});

// ---- 3. environment faults ---------------------------------------------------------------------

test('--db that is not a store: text file, truncated store, directory, path under a file', async () => {
  const { dir, db } = await storeWithRuns();
  const text = join(dir, 'notes.db');
  writeFileSync(text, 'these are my notes, not a database\n'.repeat(40));
  assertOneLineUserError(exp(['runs', '--db', text]), /notes\.db: is not a SQLite database/, 'text file');
  assert.match(readFileSync(text, 'utf8'), /^these are my notes/, 'the file is untouched');
  const truncated = join(dir, 'trunc.db');
  execFileSync('sh', ['-c', `head -c 5000 '${db}' > '${truncated}'`]);
  for (const cmd of [['runs'], ['show', 'x'], ['export', 'tiny', '--format', 'csv']]) {
    assertOneLineUserError(
      exp([...cmd, '--db', truncated]),
      /trunc\.db: .*damaged or truncated/,
      `truncated store: ${cmd[0]}`,
    );
  }
  assertOneLineUserError(exp(['runs', '--db', dir]), /is a directory/, 'directory as --db');
  assertOneLineUserError(
    exp(['runs', '--db', join(text, 'x.db')]),
    /notes\.db is a file|not a directory/,
    '--db under a file',
  );
});

test('synth --out under /proc, /sys and a regular file: one line, no hang', () => {
  const file = join(tempDir('under'), 'plain');
  writeFileSync(file, 'x');
  // /proc/foo used to spin at 100 % CPU forever (Node's recursive mkdir retries ENOENT); a 90 s cap (generous for a loaded machine) makes a hang a failure.
  for (const [out, pattern] of [
    ['/proc/foo', /\/proc\/foo: cannot create/],
    ['/proc/foo/bar', /\/proc\/foo\/bar: cannot create/],
    ['/sys/foo', /\/sys\/foo: cannot create/],
    [join(file, 'd'), /plain is a file/],
  ] as const) {
    assertOneLineUserError(exp([...SYNTH, '--out', out], { timeoutMs: 90_000 }), pattern, `--out ${out}`);
  }
  assertOneLineUserError(
    exp(['runs', '--db', '/proc/foo/exp.db'], { timeoutMs: 90_000 }),
    /cannot create|no such/,
    '--db under /proc',
  );
});

test('read-only store (read-only tmpfs): runs, show, compare, export and metrics work; run refuses in one line', async (t) => {
  if (!isRoot) return notRun(t, 'needs root to mount a tmpfs and remount it read-only');
  const m = mountTmpfs('16m');
  if (!m) return notRun(t, 'mount -t tmpfs failed (no CAP_SYS_ADMIN in this container?)');
  try {
    const { dir, db } = await storeWithRuns();
    const ro = join(m.dir, 'exp.db');
    copyFileSync(db, ro);
    // The store as a writer leaves it: WAL mode recorded in the header, no -wal/-shm files.
    m.readOnly();
    const runs = exp(['runs', '--db', ro]);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /t0[\s\S]*t1/);
    const id = /^(\S+)/m.exec(runs.stdout.split('\n').find((l) => /\bt0\b/.test(l))!)![1]!;
    for (const args of [
      ['show', id],
      ['show', id, '--json'],
      ['compare', 'tiny'],
      ['export', 'tiny', '--format', 'csv'],
      ['metrics', '--run', id],
    ]) {
      const r = exp([...args, '--db', ro]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stdout.length > 0, args.join(' '));
    }
    assertOneLineUserError(
      exp(['run', join(dir, 'base.yaml'), '--db', ro]),
      /exp\.db: .*read-only|cannot open/,
      'run on a read-only store',
    );
    assert.deepEqual(readdirSync(m.dir), ['exp.db'], 'nothing written next to the store');
  } finally {
    m.unmount();
  }
});

test('immutable store file (chattr +i): reading works, writing is one line', async (t) => {
  if (!isRoot || !canChattr()) return notRun(t, 'needs root and a file system with chattr +i');
  const { dir, db: original } = await storeWithRuns();
  const db = join(tempDir('immutable'), 'exp.db');
  copyFileSync(original, db);
  execFileSync('chattr', ['+i', db]);
  try {
    const runs = exp(['runs', '--db', db]);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /t0/);
    assert.equal(exp(['export', 'tiny', '--format', 'json', '--db', db]).code, 0);
    assertOneLineUserError(
      exp(['run', join(dir, 'base.yaml'), '--db', db]),
      /exp\.db: .*(read-only|cannot open|permission)/,
      'run on an immutable store',
    );
  } finally {
    execFileSync('chattr', ['-i', db]);
  }
});

test('full disk while writing a checkpoint: clear error, no <dir>.tmp-PID left, the previous checkpoint intact', async (t) => {
  if (!isRoot) return notRun(t, 'needs root to mount a small tmpfs');
  const m = mountTmpfs('256k');
  if (!m) return notRun(t, 'mount -t tmpfs failed');
  try {
    const small = new Map([['w', tf.ones([1000])]]);
    await saveCheckpoint(join(m.dir, 'run', 'last'), small, { epoch: 1 });
    const big = new Map([['w', tf.ones([200_000])]]); // 800 kB > 256 kB
    await assert.rejects(
      () => saveCheckpoint(join(m.dir, 'run', 'last'), big, { epoch: 2 }),
      (e: unknown) => e instanceof UserError && /last: cannot write the checkpoint: no space left/.test(e.message),
    );
    assert.deepEqual(readdirSync(join(m.dir, 'run')), ['last'], 'no temporary directory left behind');
    assert.equal(
      loadCheckpoint<{ epoch: number }>(join(m.dir, 'run', 'last')).state.epoch,
      1,
      'the previous checkpoint survives',
    );
    tf.dispose([...small.values(), ...big.values()]);
  } finally {
    m.unmount();
  }
});

test('killed between the two renames that replace a checkpoint: the previous one is read, and the next save replaces it', async () => {
  const dir = join(tempDir('ckpt-swap'), 'run');
  const w = new Map([['w', tf.ones([1000])]]);
  await saveCheckpoint(join(dir, 'last'), w, { epoch: 1 });
  await saveCheckpoint(join(dir, 'last'), w, { epoch: 2 });
  assert.deepEqual(readdirSync(dir), ['last'], 'a completed save leaves only the checkpoint');
  assert.equal(loadCheckpoint<{ epoch: number }>(join(dir, 'last')).state.epoch, 2);
  // The state a kill -9 leaves after `last` was moved aside and before the new copy was moved in
  // (saveCheckpoint's replaceDir): the complete previous checkpoint at last.prev, a new one in its temporary directory.
  renameSync(join(dir, 'last'), join(dir, 'last.prev'));
  mkdirSync(join(dir, 'last.tmp-99999'));
  writeFileSync(join(dir, 'last.tmp-99999', 'tensors.bin'), 'partial');
  assert.equal(loadCheckpoint<{ epoch: number }>(join(dir, 'last')).state.epoch, 2, 'the previous checkpoint is read');
  await saveCheckpoint(join(dir, 'last'), w, { epoch: 3 });
  assert.equal(loadCheckpoint<{ epoch: number }>(join(dir, 'last')).state.epoch, 3);
  assert.ok(!existsSync(join(dir, 'last.prev')), 'the older copy is removed once the new one is in place');
  tf.dispose([...w.values()]);
});

test('full disk during synth and export: one line naming the path, no partial output file', async (t) => {
  if (!isRoot) return notRun(t, 'needs root to mount a small tmpfs');
  const m = mountTmpfs('64k');
  if (!m) return notRun(t, 'mount -t tmpfs failed');
  try {
    const r = exp([...synthArgs({ seconds: 2 }), '--out', join(m.dir, 'set')]);
    assertOneLineUserError(r, /set\/.*no space left on the device \(ENOSPC\)/, 'synth on a full disk');
    // The half-written set is recognised as exp's own: synth.json, written first, lists its files.
    assert.ok(existsSync(join(m.dir, 'set', 'synth.json')));
    execFileSync('sh', ['-c', `rm -rf '${m.dir}'/set`]);
    const { db } = await storeWithRuns();
    execFileSync('sh', ['-c', `head -c 1M /dev/zero > '${m.dir}/fill' 2>/dev/null || true`]); // fill the disk to the last block
    const e = exp(['export', 'tiny', '--format', 'json', '--out', join(m.dir, 't.json'), '--db', db]);
    assertOneLineUserError(e, /t\.json: cannot write --out: no space left/, 'export on a full disk');
    assert.deepEqual(readdirSync(m.dir).sort(), ['fill'], 'no partial or temporary file left');
  } finally {
    m.unmount();
  }
});

// ---- 5. input that escapes validation, multi-line errors ----------------------------------------

test('__proto__ / constructor / prototype keys are refused in --set and in YAML', () => {
  const dir = tempDir('proto');
  const yaml = join(dir, 'e.yaml');
  writeFileSync(yaml, 'name: x\n');
  for (const key of ['__proto__.x', 'train.__proto__.polluted', 'constructor.prototype.y', 'data.prototype']) {
    assertOneLineUserError(
      exp(['run', yaml, '--set', `${key}=1`, '--db', join(dir, 's.db')]),
      new RegExp(`--set ${key.replace(/\./g, '\\.')}: "(__proto__|constructor|prototype)" is not allowed`),
      `--set ${key}`,
    );
  }
  writeFileSync(yaml, 'name: x\ntrain:\n  __proto__:\n    epochs: 3\n');
  assertOneLineUserError(
    exp(['run', yaml, '--db', join(dir, 's.db')]),
    /e\.yaml: key train\.__proto__/,
    'YAML __proto__',
  );
  writeFileSync(join(dir, 's.yaml'), `name: s\nbase: e.yaml\nset: {"constructor.x": 1}\ntrials:\n  - name: a\n`);
  writeFileSync(yaml, 'name: x\n');
  assertOneLineUserError(
    exp(['sweep', join(dir, 's.yaml'), '--dry-run', '--db', join(dir, 's.db')]),
    /constructor/,
    'sweep set constructor',
  );
  assert.ok(
    !existsSync(join(dir, 's.db')) || exp(['runs', '--db', join(dir, 's.db')]).stdout.includes('no runs'),
    'no run created',
  );
});

test('show: ambiguous prefix, empty id and unknown id are one line each', async () => {
  const { db } = await storeWithRuns();
  const ids = exp(['runs', '--db', db, '--json']);
  const runs = JSON.parse(ids.stdout) as Array<{ id: string }>;
  // Run ids share their time prefix; find a prefix matching both.
  let p = 0;
  while (runs[0]!.id[p] === runs[1]!.id[p]) p++;
  const prefix = runs[0]!.id.slice(0, p);
  assert.ok(prefix.length > 0, 'the two runs share a prefix');
  assertOneLineUserError(exp(['show', prefix, '--db', db]), /ambiguous: it matches 2 runs/, 'ambiguous prefix');
  assertOneLineUserError(exp(['show', '', '--db', db]), /empty run reference/, 'empty id');
  assertOneLineUserError(exp(['show', 'zzz', '--db', db]), /no run with that id/, 'unknown id');
});

// ---- 4. everything knowable before training, before a run row -----------------------------------

function runCount(db: string): number {
  const r = exp(['runs', '--db', db, '--json']);
  return (JSON.parse(r.stdout) as unknown[]).length;
}

test('preflight: batchSize 1, a test ID without anomalies, undecodable clips -> one refusal, no run row, no training', () => {
  const dir = tempDir('preflight');
  const data = join(dir, 'data');
  synthesize({ out: data, seed: 0, types: ['fan'], ids: 2, train: 3, test: 4, seconds: 0.5, sampleRate: 16000 });
  const yaml = join(dir, 'e.yaml');
  writeFileSync(
    yaml,
    `name: pf\ndata: {root: ${JSON.stringify(data)}, seconds: 0.5}\ntrain: {epochs: 1, batchSize: 4}\n`,
  );
  const db = join(dir, 'exp.db');
  assertOneLineUserError(
    exp(['run', yaml, '--set', 'train.batchSize=1', '--db', db]),
    /train\.batchSize: 1 is too small/,
    'batchSize 1',
  );
  assertOneLineUserError(
    exp(['run', yaml, '--set', 'features.logmel.fMax=12000', '--db', db]),
    /fMax: 12000 Hz is above the Nyquist/,
    'fMax above Nyquist',
  );
  for (const f of readdirSync(join(data, 'fan', 'test')).filter((n) => n.startsWith('anomaly_id_02')))
    execFileSync('rm', [join(data, 'fan', 'test', f)]);
  assertOneLineUserError(exp(['run', yaml, '--db', db]), /fan id_02 \(2 normal, 0 anomalous\)/, 'ID without anomalies');
  assert.equal(runCount(db), 0, 'no run rows');
  // Undecodable clips: every one is named, one line each, before any training.
  synthesize({
    out: join(dir, 'data2'),
    seed: 0,
    types: ['fan'],
    ids: 1,
    train: 3,
    test: 4,
    seconds: 0.5,
    sampleRate: 16000,
  });
  writeFileSync(join(dir, 'data2', 'fan', 'train', 'normal_id_00_00000000.wav'), 'not audio');
  writeFileSync(
    join(dir, 'data2', 'fan', 'test', 'anomaly_id_00_00000001.wav'),
    readFileSync(join(dir, 'data2', 'fan', 'test', 'anomaly_id_00_00000000.wav')).subarray(0, 2000),
  );
  const r = exp(['run', yaml, '--set', `data.root=${join(dir, 'data2')}`, '--db', db]);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /2 of the run's 7 clips cannot be used/);
  assert.match(lines[1]!, /normal_id_00_00000000\.wav: is not a readable WAV/);
  assert.match(lines[2]!, /anomaly_id_00_00000001\.wav: is truncated/);
  assert.equal(lines.length, 3, r.stderr);
  assert.doesNotMatch(r.stderr, /epoch|\n\s+at /);
  assert.equal(runCount(db), 0, 'no run rows');
});

test('exp data check decodes every WAV and lists every problem, one line each, exit 1', () => {
  const dir = tempDir('check');
  const data = join(dir, 'data');
  synthesize({
    out: data,
    seed: 0,
    types: ['fan', 'pump'],
    ids: 1,
    train: 3,
    test: 2,
    seconds: 0.3,
    sampleRate: 16000,
  });
  const wav = (rate: number, channels: number, dataBytes: number): Buffer => {
    const b = Buffer.alloc(44 + dataBytes);
    b.write('RIFF', 0);
    b.writeUInt32LE(36 + dataBytes, 4);
    b.write('WAVE', 8);
    b.write('fmt ', 12);
    b.writeUInt32LE(16, 16);
    b.writeUInt16LE(1, 20);
    b.writeUInt16LE(channels, 22);
    b.writeUInt32LE(rate, 24);
    b.writeUInt32LE(rate * 2 * channels, 28);
    b.writeUInt16LE(2 * channels, 32);
    b.writeUInt16LE(16, 34);
    b.write('data', 36);
    b.writeUInt32LE(dataBytes, 40);
    return b;
  };
  const train = (t: string, i: number) => join(data, t, 'train', `normal_id_00_0000000${i}.wav`);
  writeFileSync(train('fan', 0), 'hello, I am text');
  writeFileSync(train('fan', 1), wav(22050, 1, 400));
  writeFileSync(train('fan', 2), wav(16000, 2, 400));
  writeFileSync(train('pump', 0), wav(16000, 1, 0));
  writeFileSync(train('pump', 1), wav(16000, 1, 400).subarray(0, 200));
  const r = exp(['data', 'check', data]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /fan\s+id_00/, 'the summary is still printed');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 6, r.stderr);
  assert.match(lines[0]!, /fan\/train\/normal_id_00_00000000\.wav: is not a readable WAV/);
  assert.match(lines[1]!, /fan\/train\/normal_id_00_00000001\.wav: is sampled at 22050 Hz; expected 16000/);
  assert.match(lines[2]!, /fan\/train\/normal_id_00_00000002\.wav: has 2 channels/);
  assert.match(lines[3]!, /pump\/train\/normal_id_00_00000000\.wav: holds no samples/);
  assert.match(lines[4]!, /pump\/train\/normal_id_00_00000001\.wav: is truncated/);
  assert.match(lines[5]!, /^exp: 5 of 10 clips/);
  const j = exp(['data', 'check', data, '--json']);
  assert.equal(j.code, 1);
  assert.equal((JSON.parse(j.stdout) as { audio: { problems: unknown[] } }).audio.problems.length, 5);
  const good = join(dir, 'good');
  synthesize({ out: good, seed: 0, types: ['fan'], ids: 1, train: 2, test: 2, seconds: 0.3, sampleRate: 16000 });
  const ok = exp(['data', 'check', good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /all 4 clips decode/);
});

test('the audio check cache: a second check decodes nothing; a changed file is decoded again', () => {
  const dir = tempDir('cache');
  synthesize({
    out: join(dir, 'd'),
    seed: 0,
    types: ['fan'],
    ids: 1,
    train: 3,
    test: 2,
    seconds: 0.3,
    sampleRate: 16000,
  });
  const paths = [
    'train/normal_id_00_00000000.wav',
    'train/normal_id_00_00000001.wav',
    'test/anomaly_id_00_00000000.wav',
  ].map((p) => join(dir, 'd', 'fan', p));
  const cacheFile = join(dir, 'cache', 'audio.json');
  const first = checkAudio(paths, { sampleRate: 16000, cacheFile });
  assert.deepEqual([first.checked, first.cached, first.problems.length], [3, 0, 0]);
  const second = checkAudio(paths, { sampleRate: 16000, cacheFile });
  assert.deepEqual([second.cached, second.problems.length], [3, 0]);
  writeFileSync(paths[1]!, 'now text');
  const third = checkAudio(paths, { sampleRate: 16000, cacheFile });
  assert.equal(third.cached, 2);
  assert.equal(third.problems.length, 1);
  assert.equal(checkAudio(paths, { sampleRate: 8000, cacheFile }).cached, 0, 'another expected rate is checked afresh');
  assert.ok(statSync(cacheFile).size > 0);
});

// ---- faults beyond the list above --------------------------------------------------------------

test('beyond the list: a synth.json naming files outside its folder deletes nothing', async () => {
  const { clearSyntheticOutput } = await import('../src/data/synth/generate.js');
  const base = tempDir('traversal');
  const victim = join(base, 'victim.txt');
  writeFileSync(victim, 'keep me');
  const d = join(base, 'set');
  synthesize({ out: d, seed: 0, types: ['fan'], ids: 1, train: 1, test: 2, seconds: 0.1, sampleRate: 16000 });
  const manifest = JSON.parse(readFileSync(join(d, 'synth.json'), 'utf8')) as { files: string[] };
  manifest.files.push('../victim.txt');
  writeFileSync(join(d, 'synth.json'), JSON.stringify(manifest));
  assert.throws(
    () => clearSyntheticOutput(d),
    (e: unknown) => e instanceof UserError && /outside the folder/.test(e.message),
  );
  assert.equal(readFileSync(victim, 'utf8'), 'keep me');
  assert.ok(existsSync(join(d, 'fan', 'train', 'normal_id_00_00000000.wav')), 'the set is untouched too');
});

test('beyond the list: a FIFO or a directory named like a clip is a problem line, not a hang', () => {
  const d = join(tempDir('fifo'), 'd');
  synthesize({ out: d, seed: 0, types: ['fan'], ids: 1, train: 2, test: 2, seconds: 0.1, sampleRate: 16000 });
  const fifo = join(d, 'fan', 'train', 'normal_id_00_00000009.wav');
  execFileSync('mkfifo', [fifo]);
  mkdirSync(join(d, 'fan', 'train', 'normal_id_00_00000008.wav'));
  const r = checkAudio([fifo, join(d, 'fan', 'train', 'normal_id_00_00000008.wav')], { sampleRate: 16000 });
  assert.deepEqual(
    r.problems.map((p) => p.problem.slice(0, 20)),
    ['not a regular file (', 'not a regular file ('],
  );
});
