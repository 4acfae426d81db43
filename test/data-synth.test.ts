import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav } from '../src/audio/wav.js';
import { indexDataset } from '../src/data/dcase.js';
import { createHash } from 'node:crypto';
import {
  COMPLETE_MARKER,
  DEFAULT_SYNTH_OPTIONS,
  GENERATORS,
  GENERATOR_VERSION,
  defaultSynthOptions,
  ensureSyntheticDataset,
  synthesize,
  type SynthManifest,
} from '../src/data/synth/generate.js';
import { MACHINES, MACHINE_TYPES } from '../src/data/synth/machines/index.js';
import { MACHINES_V2 } from '../src/data/synth/v2/index.js';
import { MACHINES_V3 } from '../src/data/synth/v3.js';
import { Rng } from '../src/random/index.js';
import { UserError } from '../src/util/errors.js';

const base = mkdtempSync(join(tmpdir(), 'exp-synth-'));
const small = { seed: 3, types: ['fan', 'valve'], ids: 2, train: 3, test: 4, seconds: 0.25, sampleRate: 16000 };

/** The sets whose digests are pinned below: every type, 2 IDs, 1 + 2 clips each of 0.5 s. */
const GOLDEN = { seed: 5, types: [...MACHINE_TYPES], ids: 2, train: 1, test: 2, seconds: 0.5, sampleRate: 16000 };

function files(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.wav'))
    .sort();
}

/** The clips' bytes and what synth.json says about each test clip (its other fields may grow). */
function digest(root: string): string {
  const h = createHash('sha256');
  for (const f of files(root)) h.update(f).update(readFileSync(join(root, f)));
  const manifest = JSON.parse(readFileSync(join(root, 'synth.json'), 'utf8')) as SynthManifest;
  return h.update(JSON.stringify([manifest.generator, manifest.test])).digest('hex');
}

test('the default built-in set is version 3, the modest one documented', () => {
  assert.equal(GENERATOR_VERSION, 3);
  assert.deepEqual(DEFAULT_SYNTH_OPTIONS.types, ['fan', 'pump', 'slider', 'valve', 'ToyCar', 'ToyConveyor']);
  assert.equal(DEFAULT_SYNTH_OPTIONS.ids, 3);
  assert.equal(DEFAULT_SYNTH_OPTIONS.train, 30);
  assert.equal(DEFAULT_SYNTH_OPTIONS.test, 100);
  assert.equal(DEFAULT_SYNTH_OPTIONS.seconds, 10);
  assert.equal(defaultSynthOptions(1).test, 20, 'version 1 keeps its built-in size');
  assert.deepEqual(MACHINE_TYPES, DEFAULT_SYNTH_OPTIONS.types);
  assert.deepEqual([...MACHINES_V2.keys()], MACHINE_TYPES);
  assert.deepEqual([...MACHINES_V3.keys()], MACHINE_TYPES);
});

test('version 1 renders exactly the bytes it rendered before version 2 existed', () => {
  // Digest and cache directory recorded from the generator before versions were introduced
  // (commit 05d8340): runs stored without data.synthVersion stay reproducible.
  const out = join(base, 'v1-golden');
  synthesize({ ...GOLDEN, version: 1, out });
  assert.equal(digest(out), 'f6b7b5cf9b9f8fd80cd6bf66d2eac4b346383ec502fb06173f39b9ff8026df02');
  const cache = { types: ['valve'], ids: 1, train: 1, test: 2, seconds: 0.25, baseDir: join(base, 'v1-cache') };
  const cached = ensureSyntheticDataset({ ...cache, version: 1 });
  assert.equal(cached.split(/[\\/]/).pop(), '09132e3d8b3cf457');
  const latest = ensureSyntheticDataset(cache);
  assert.notEqual(latest, cached, 'the version is part of the data hash');
  assert.equal((JSON.parse(readFileSync(join(latest, 'synth.json'), 'utf8')) as SynthManifest).generator, 3);
});

test('version 2 renders exactly the bytes it rendered before version 3 existed', () => {
  // Digest recorded from the generator at commit b8b4147, before version 3: runs on version 2
  // stay reproducible.
  const out = join(base, 'v2-golden');
  synthesize({ ...GOLDEN, version: 2, out });
  assert.equal(digest(out), '9eea727f5efcbe370990467fc2fb299fd3ffb6dc8cf80a65d8f852bff5519762');
});

test('every machine of every version renders the samples it rendered before, normal and with each fault kind', () => {
  // The set digests above draw only some fault kinds, and none of version 3. Digests recorded at
  // commit 20456cf, before the machines' shared steps were merged into helpers (such a refactor
  // must not move a sample).
  const want: Record<string, string> = {
    'v1 fan': '90ea60b06935689b',
    'v1 pump': '8d0fce3c332a4299',
    'v1 slider': 'cbfc0b82eac05965',
    'v1 valve': '753a9fd1e8133d8c',
    'v1 ToyCar': '2f43534fb46bd520',
    'v1 ToyConveyor': 'a7477f5e15694697',
    'v2 fan': '5655d53a2304a77a',
    'v2 pump': '7b6174accc214a18',
    'v2 slider': 'c37f142def17c8c4',
    'v2 valve': 'f86f4fe985220ab6',
    'v2 ToyCar': '1edb514618c1fe08',
    'v2 ToyConveyor': '3d0ab4c76b56ac38',
    'v3 fan': '2ac5654e06ed35b6',
    'v3 pump': '2614c4694c97885e',
    'v3 slider': '67cd379cc04fd964',
    'v3 valve': '9cfc5001f64dd53f',
    'v3 ToyCar': '1120a646cc9749cb',
    'v3 ToyConveyor': '01d06ef4c8de20a7',
  };
  const got: Record<string, string> = {};
  for (const [version, machines] of [
    [1, MACHINES],
    [2, MACHINES_V2],
    [3, MACHINES_V3],
  ] as const)
    for (const [type, m] of machines) {
      const h = createHash('sha256');
      for (const kind of [null, ...m.faults]) {
        const r = m.render(new Rng(11), new Rng(12), 8000, 16000, kind === null ? null : { kind, severity: 0.6 });
        h.update(new Uint8Array(r.sound.buffer, r.sound.byteOffset, r.sound.byteLength)).update(String(r.level));
      }
      got[`v${version} ${type}`] = h.digest('hex').slice(0, 16);
    }
  assert.deepEqual(got, want);
});

test('synthesize writes the DCASE layout that indexDataset reads back', () => {
  const out = join(base, 'a');
  assert.equal(synthesize({ ...small, out }), 2 * 2 * (3 + 4));
  const idx = indexDataset(out);
  assert.deepEqual(idx.types, ['fan', 'valve']);
  assert.deepEqual(
    idx.classes.map((c) => `${c.type}/${c.machineId}`),
    ['fan/id_00', 'fan/id_02', 'valve/id_00', 'valve/id_02'],
  );
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
  assert.ok(
    anomalies.every(
      (c) =>
        MACHINES_V2.get(c.file.split(/[\\/]/)[0] as string)!.faults.includes(c.fault as string) &&
        c.severity! > 0 &&
        c.severity! <= 1,
    ),
  );
});

for (const version of GENERATORS.keys())
  test(`version ${version}: generation is deterministic, and a subset renders identical clips`, () => {
    const a = join(base, `det1-${version}`),
      b = join(base, `det2-${version}`),
      sub = join(base, `sub-${version}`);
    synthesize({ ...small, version, out: a });
    synthesize({ ...small, version, out: b });
    synthesize({ ...small, version, types: ['valve'], ids: 1, train: 2, test: 2, out: sub });
    assert.deepEqual(files(a), files(b));
    for (const f of files(a)) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
    const subFiles = files(sub);
    assert.equal(subFiles.length, 4);
    for (const f of subFiles)
      assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(sub, f))), `subset clip ${f} differs`);
    const other = join(base, `seed-${version}`);
    synthesize({ ...small, version, seed: 4, out: other });
    assert.ok(
      !readFileSync(join(a, files(a)[0]!)).equals(readFileSync(join(other, files(a)[0]!))),
      'another seed gives other audio',
    );
  });

for (const [version, machines] of [
  [1, MACHINES],
  [2, MACHINES_V2],
  [3, MACHINES_V3],
] as const)
  test(`version ${version}: every fault kind of every type changes the machine sound`, () => {
    const sr = 16000,
      n = 4 * 16000; // long enough for several valve and slider cycles
    for (const [type, m] of machines) {
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
  assert.equal(
    ensureSyntheticDataset(opts, () => calls++),
    root,
  );
  assert.equal(calls, 0, 'a complete set is not regenerated');
  assert.deepEqual(
    readdirSync(baseDir).filter((d) => d.includes('.tmp-')),
    [],
    'no temporary directory is left',
  );
  assert.notEqual(ensureSyntheticDataset({ ...opts, seed: 9 }), root);
});

test('bad options are user errors naming the option', () => {
  const out = join(base, 'bad');
  assert.throws(
    () => synthesize({ ...small, types: ['drill'], out }),
    (e: unknown) => e instanceof UserError && e.message.includes('"drill"'),
  );
  assert.throws(
    () => synthesize({ ...small, test: 1, out }),
    (e: unknown) => e instanceof UserError && e.message.includes('test'),
  );
  assert.throws(
    () => synthesize({ ...small, seconds: 0, out }),
    (e: unknown) => e instanceof UserError && e.message.includes('seconds'),
  );
});

test('version 3 pairs its clips with version 2: same normal clips where only faults changed, other valve timing', () => {
  const spec = {
    seed: 3,
    machineId: 'id_02',
    split: 'test',
    label: 0,
    index: 4,
    seconds: 0.5,
    sampleRate: 16000,
  } as const;
  const v2 = GENERATORS.get(2)!,
    v3 = GENERATORS.get(3)!;
  for (const type of ['fan', 'pump', 'ToyCar', 'ToyConveyor']) {
    assert.deepEqual(
      v3.render({ ...spec, type }).samples,
      v2.render({ ...spec, type }).samples,
      `${type}: a normal clip is the same in both versions`,
    );
  }
  assert.notDeepEqual(
    v3.render({ ...spec, type: 'valve' }).samples,
    v2.render({ ...spec, type: 'valve' }).samples,
    'the valve pattern is faster in version 3',
  );
  const anomaly = { ...spec, type: 'pump', label: 1 } as const;
  const [a2, a3] = [v2.render(anomaly), v3.render(anomaly)];
  assert.deepEqual(a3.fault, a2.fault, 'the same fault and severity are drawn');
  assert.equal(a3.snrDb, a2.snrDb, 'the same background level');
});
