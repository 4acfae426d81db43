import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav } from '../src/audio/wav.js';
import { indexDataset } from '../src/data/dcase.js';
import { COMPLETE_MARKER, DEFAULT_SYNTH_OPTIONS, ensureSyntheticDataset, synthesize, type SynthManifest } from '../src/data/synth/generate.js';
import { MACHINES, MACHINE_TYPES } from '../src/data/synth/machines/index.js';
import { Rng } from '../src/data/synth/prng.js';
import { UserError } from '../src/util/errors.js';

const base = mkdtempSync(join(tmpdir(), 'exp-synth-'));
const small = { seed: 3, types: ['fan', 'valve'], ids: 2, train: 3, test: 4, seconds: 0.25, sampleRate: 16000 };

function files(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.wav')).sort();
}

test('the default built-in set is the modest one documented', () => {
  assert.deepEqual(DEFAULT_SYNTH_OPTIONS.types, ['fan', 'pump', 'slider', 'valve', 'ToyCar', 'ToyConveyor']);
  assert.equal(DEFAULT_SYNTH_OPTIONS.ids, 3);
  assert.equal(DEFAULT_SYNTH_OPTIONS.train, 30);
  assert.equal(DEFAULT_SYNTH_OPTIONS.test, 20);
  assert.equal(DEFAULT_SYNTH_OPTIONS.seconds, 10);
  assert.deepEqual(MACHINE_TYPES, DEFAULT_SYNTH_OPTIONS.types);
});

test('synthesize writes the DCASE layout that indexDataset reads back', () => {
  const out = join(base, 'a');
  assert.equal(synthesize({ ...small, out }), 2 * 2 * (3 + 4));
  const idx = indexDataset(out);
  assert.deepEqual(idx.types, ['fan', 'valve']);
  assert.deepEqual(idx.classes.map((c) => `${c.type}/${c.machineId}`), ['fan/id_00', 'fan/id_02', 'valve/id_00', 'valve/id_02']);
  assert.equal(idx.clips.filter((c) => c.split === 'test' && c.label === 1).length, 4 * 2);
  for (const c of idx.clips) {
    const x = readWav(c.path, 16000);
    assert.equal(x.length, 4000);
    assert.ok(x.every((v) => Math.abs(v) <= 1 && Number.isFinite(v)));
    assert.ok(Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length) > 1e-3, `${c.path} should not be silent`);
  }
  const manifest = JSON.parse(readFileSync(join(out, 'synth.json'), 'utf8')) as SynthManifest;
  const anomalies = manifest.test.filter((c) => c.label === 1);
  assert.equal(anomalies.length, 8);
  assert.ok(anomalies.every((c) => MACHINES.get(c.file.split(/[\\/]/)[0] as string)!.faults.includes(c.fault as string) && c.severity! > 0 && c.severity! <= 1));
});

test('generation is deterministic, and a subset renders identical clips', () => {
  const a = join(base, 'det1'), b = join(base, 'det2'), sub = join(base, 'sub');
  synthesize({ ...small, out: a });
  synthesize({ ...small, out: b });
  synthesize({ ...small, types: ['valve'], ids: 1, train: 2, test: 2, out: sub });
  assert.deepEqual(files(a), files(b));
  for (const f of files(a)) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
  const subFiles = files(sub);
  assert.equal(subFiles.length, 4);
  for (const f of subFiles) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(sub, f))), `subset clip ${f} differs`);
  const other = join(base, 'seed');
  synthesize({ ...small, seed: 4, out: other });
  assert.ok(!readFileSync(join(a, files(a)[0]!)).equals(readFileSync(join(other, files(a)[0]!))), 'another seed gives other audio');
});

test('every fault kind of every type changes the machine sound', () => {
  const sr = 16000, n = 4 * 16000; // long enough for several valve and slider cycles
  for (const [type, m] of MACHINES) {
    const normal = m.render(new Rng(1), new Rng(2), n, sr, null);
    for (const kind of m.faults) {
      const bad = m.render(new Rng(1), new Rng(2), n, sr, { kind, severity: 1 });
      let diff = 0;
      for (let i = 0; i < n; i++) diff += ((bad.sound[i] as number) - (normal.sound[i] as number)) ** 2;
      assert.ok(Math.sqrt(diff / n) > 0.05 * normal.level, `${type} ${kind} should audibly change the sound`);
    }
  }
});

test('ensureSyntheticDataset generates once into runs-style cache and reuses it', () => {
  const baseDir = join(base, 'cache');
  const opts = { ...small, types: ['pump'], ids: 1, baseDir };
  const root = ensureSyntheticDataset(opts);
  assert.ok(existsSync(join(root, COMPLETE_MARKER)));
  assert.equal(indexDataset(root).clips.length, 7);
  let calls = 0;
  assert.equal(ensureSyntheticDataset(opts, () => calls++), root);
  assert.equal(calls, 0, 'a complete set is not regenerated');
  assert.deepEqual(readdirSync(baseDir).filter((d) => d.includes('.tmp-')), [], 'no temporary directory is left');
  assert.notEqual(ensureSyntheticDataset({ ...opts, seed: 9 }), root);
});

test('bad options are user errors naming the option', () => {
  const out = join(base, 'bad');
  assert.throws(() => synthesize({ ...small, types: ['drill'], out }), (e: unknown) => e instanceof UserError && e.message.includes('"drill"'));
  assert.throws(() => synthesize({ ...small, test: 1, out }), (e: unknown) => e instanceof UserError && e.message.includes('test'));
  assert.throws(() => synthesize({ ...small, seconds: 0, out }), (e: unknown) => e instanceof UserError && e.message.includes('seconds'));
});
