import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../src/audio/wav.js';
import { indexDataset, parseClipName } from '../src/data/dcase.js';
import { summarize } from '../src/data/summary.js';
import { selectTestClips, selectTrainClips } from '../src/data/select.js';
import { loadClips } from '../src/data/load.js';
import { UserError } from '../src/util/errors.js';

const base = mkdtempSync(join(tmpdir(), 'exp-index-'));
let counter = 0;

/** Builds a root from a list of relative clip paths; each clip is a short constant signal. */
function makeRoot(files: string[], samples = 8): string {
  const root = join(base, `root${counter++}`);
  for (const f of files) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    if (f.endsWith('.wav')) writeWav(join(root, f), new Float32Array(samples).fill(0.25), 16000);
    else writeFileSync(join(root, f), 'x');
  }
  return root;
}

function rejects(root: string, ...parts: string[]): void {
  assert.throws(
    () => indexDataset(root),
    (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      for (const p of parts)
        assert.ok(e.message.includes(p), `${JSON.stringify(e.message)} should mention ${JSON.stringify(p)}`);
      return true;
    },
  );
}

const good = [
  'pump/train/normal_id_02_00000000.wav',
  'pump/train/normal_id_00_00000000.wav',
  'pump/train/normal_id_00_00000001.wav',
  'pump/test/normal_id_00_00000000.wav',
  'pump/test/anomaly_id_00_00000000.wav',
  'pump/test/anomaly_id_00_00000001.wav',
  'fan/train/normal_id_04_00000000.wav',
  'fan/test/normal_id_04_00000000.wav',
  'fan/README.txt',
];

test('file names parse into label and machine ID', () => {
  assert.deepEqual(parseClipName('normal_id_00_00000012.wav'), { label: 0, machineId: 'id_00' });
  assert.deepEqual(parseClipName('anomaly_id_06_00000000.wav'), { label: 1, machineId: 'id_06' });
  assert.equal(parseClipName('normal_00_00000012.wav'), null);
  assert.equal(parseClipName('normal_id_00_00000012.flac'), null);
});

test('a good root is indexed with one class space sorted by type then ID', () => {
  const root = makeRoot(good);
  const idx = indexDataset(root);
  assert.deepEqual(idx.types, ['fan', 'pump']);
  assert.deepEqual(
    idx.classes.map((c) => `${c.index}:${c.type}/${c.machineId}`),
    ['0:fan/id_04', '1:pump/id_00', '2:pump/id_02'],
  );
  assert.equal(idx.clips.length, 8);
  const anomalies = idx.clips.filter((c) => c.label === 1);
  assert.equal(anomalies.length, 2);
  assert.ok(anomalies.every((c) => c.split === 'test' && c.type === 'pump' && c.classIndex === 1));
  const s = summarize(idx);
  assert.equal(s.classes, 3);
  assert.deepEqual(s.total, { train: 4, testNormal: 2, testAnomaly: 2 });
  const pump = s.types.find((t) => t.type === 'pump')!;
  assert.deepEqual(
    pump.ids.map((i) => [i.machineId, i.train, i.testNormal, i.testAnomaly]),
    [
      ['id_00', 2, 1, 2],
      ['id_02', 1, 0, 0],
    ],
  );
});

test('types can be restricted; an unknown type is named', () => {
  const root = makeRoot(good);
  const idx = indexDataset(root, { types: ['pump'] });
  assert.deepEqual(idx.types, ['pump']);
  assert.deepEqual(
    idx.classes.map((c) => c.machineId),
    ['id_00', 'id_02'],
  );
  assert.throws(
    () => indexDataset(root, { types: ['valve'] }),
    (e: unknown) => e instanceof UserError && e.message.includes('"valve"') && e.message.includes('fan, pump'),
  );
});

test('broken layouts say exactly what is wrong and where', () => {
  rejects(join(base, 'nope'), 'nope', 'does not exist');
  rejects(makeRoot(['notes.txt']), 'no machine type directories');
  rejects(makeRoot(['fan/test/normal_id_00_00000000.wav']), join('fan'), 'no train directory');
  rejects(
    makeRoot(['fan/train/normal_id_00_00000000.wav', 'fan/train/clip_7.wav']),
    'clip_7.wav',
    'normal_id_XX_NNNNNNNN.wav',
  );
  rejects(
    makeRoot(['fan/train/normal_id_00_00000000.wav', 'fan/train/anomaly_id_00_00000000.wav']),
    'anomaly_id_00_00000000.wav',
    'train',
  );
  rejects(
    makeRoot(['fan/train/normal_id_00_00000000.wav', 'fan/test/normal_id_02_00000000.wav']),
    'fan id_02',
    'no normal training clips',
  );
  rejects(
    makeRoot(['fan/train/normal_id_00_00000000.wav', 'fan/test/anomaly_id_00_00000000.wav']),
    'fan id_00',
    'no normal test clips',
  );
  rejects(makeRoot(['fan/train/README.md']), join('fan', 'train'), 'holds no normal clips');
});

test('training subsets are deterministic per seed, capped per ID, and test caps keep both labels', () => {
  const files: string[] = [];
  for (const id of ['id_00', 'id_02']) {
    for (let i = 0; i < 10; i++) files.push(`valve/train/normal_${id}_${String(i).padStart(8, '0')}.wav`);
    for (let i = 0; i < 4; i++)
      files.push(
        `valve/test/normal_${id}_${String(i).padStart(8, '0')}.wav`,
        `valve/test/anomaly_${id}_${String(i).padStart(8, '0')}.wav`,
      );
  }
  const idx = indexDataset(makeRoot(files));
  const a = selectTrainClips(idx, { maxClipsPerId: 3, seed: 1 });
  const b = selectTrainClips(idx, { maxClipsPerId: 3, seed: 1 });
  assert.deepEqual(a, b);
  assert.equal(a.length, 6);
  assert.deepEqual(
    [0, 1].map((k) => a.filter((c) => c.classIndex === k).length),
    [3, 3],
  );
  const seeds = new Set(
    Array.from({ length: 8 }, (_, s) =>
      selectTrainClips(idx, { maxClipsPerId: 3, seed: s })
        .map((c) => c.path)
        .join(),
    ),
  );
  assert.ok(seeds.size > 1, 'different seeds should pick different subsets');
  assert.equal(selectTrainClips(idx).length, 20);
  const t = selectTestClips(idx, { maxPerId: 2, seed: 0 });
  assert.equal(t.length, 8);
  for (const k of [0, 1])
    for (const l of [0, 1]) assert.equal(t.filter((c) => c.classIndex === k && c.label === l).length, 2);
});

test('loadClips pads or cuts every clip to the configured length', () => {
  const root = makeRoot(['fan/train/normal_id_00_00000000.wav'], 10);
  const idx = indexDataset(root);
  const short = loadClips(idx.clips, { sampleRate: 16000, seconds: 16 / 16000 });
  assert.equal(short.length, 16);
  assert.deepEqual(Array.from(short.data), [...Array(10).fill(Math.round(0.25 * 32767) / 32768), ...Array(6).fill(0)]);
  const cut = loadClips(idx.clips, { sampleRate: 16000, seconds: 4 / 16000 });
  assert.equal(cut.data.length, 4);
});
