import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../src/data/synth/generate.js';
import { validateExperiment } from '../src/config/load.js';
import type { ExperimentConfig } from '../src/config/schema.js';
import { prepareData, featureCache, featureCacheRoot } from '../src/train/data.js';
import { FeatureCache, contentKey } from '../src/features/cache.js';
import { logMel } from '../src/features/logmel.js';
import { readWav, fitLength } from '../src/audio/wav.js';
import { train, type TrainEvent } from '../src/train/index.js';

const dir = mkdtempSync(join(tmpdir(), 'exp-feature-cache-'));
const data = join(dir, 'data');

function config(extra: Record<string, unknown> = {}): ExperimentConfig {
  return validateExperiment(
    {
      name: 'cache',
      seed: 5,
      data: { root: data, seconds: 1 },
      features: { branches: ['logmel', 'tgram'], logmel: { nFft: 512, hop: 256, nMels: 32 } },
      loss: { metric: null },
      // Batches of 6 in micro-batches of 2: three micro-batches per step, one read.
      train: { epochs: 2, batchSize: 6, microBatch: 2, lr: 0.001 },
      ...extra,
    },
    'test',
  );
}

before(() => {
  synthesize({ out: data, seed: 1, types: ['fan', 'valve'], ids: 2, train: 6, test: 4, seconds: 1, sampleRate: 16000 });
});

test('cache entries: round trip, a damaged or foreign entry is a miss, keys follow options, code and content', () => {
  const root = join(dir, 'unit');
  const mk = (frontEnd: unknown, code: string[] = []) => new FeatureCache({ root, frontEnd, code, maxBytes: 1e9 });
  const a = mk({ nMels: 4 });
  const x = Float32Array.from([1.5, -2, 3.25, Number.NEGATIVE_INFINITY, 0]);
  assert.equal(a.get('k', 5), null);
  a.put('k', x);
  assert.deepEqual(a.get('k', 5), x);
  assert.equal(a.get('k', 4), null, 'another length is not this entry');
  assert.deepEqual(mk({ nMels: 4 }).get('k', 5), x, 'a new process with the same front end reads it');
  assert.equal(mk({ nMels: 8 }).get('k', 5), null, 'other options: another directory');
  const src = join(dir, 'front-end-code.js');
  writeFileSync(src, 'v1');
  const c1 = mk({ nMels: 4 }, [src]);
  c1.put('k', x);
  writeFileSync(src, 'v2');
  assert.equal(mk({ nMels: 4 }, [src]).get('k', 5), null, 'edited front-end code: never the old values');
  // A flipped bit in the data (a torn write after a power loss) fails the checksum.
  const file = join(a.dir, 'k.f32');
  const bytes = readFileSync(file);
  bytes[bytes.length - 3]! ^= 0x10;
  writeFileSync(file, bytes);
  assert.equal(a.get('k', 5), null);
  writeFileSync(file, bytes.subarray(0, 20));
  assert.equal(a.get('k', 5), null);
  assert.notEqual(contentKey(Uint8Array.from([1, 2])), contentKey(Uint8Array.from([1, 3])));
  assert.equal(readdirSync(a.dir).filter((n) => n.includes('.tmp')).length, 0, 'no temporary file left');
});

test('the cache stays under its bound, dropping the least recently used entries', () => {
  const root = join(dir, 'bound');
  const entry = 28 + 4 * 1000; // header + 1000 floats
  const c = new FeatureCache({ root, frontEnd: 'b', code: [], maxBytes: 10 * entry });
  for (let i = 0; i < 14; i++) {
    c.put(`e${i}`, new Float32Array(1000).fill(i));
    // Older entries carry older times, as they would after real use.
    utimesSync(join(c.dir, `e${i}.f32`), 1000 + i, 1000 + i);
  }
  c.prune();
  const left = readdirSync(c.dir).sort((p, q) => statSync(join(c.dir, p)).mtimeMs - statSync(join(c.dir, q)).mtimeMs);
  assert.equal(left.length, 9, 'pruned to 90 % of the bound');
  assert.deepEqual(
    left.map((n) => n.replace('.f32', '')),
    ['e5', 'e6', 'e7', 'e8', 'e9', 'e10', 'e11', 'e12', 'e13'],
  );
});

test('features from the cache equal the ones computed from the clip; held in memory or read on demand', async () => {
  const cfg = config();
  const root = join(dir, 'prep');
  // Features are computed when first needed: load both splits whole, as a run's epochs would.
  const loadAll = async (d: ReturnType<typeof prepareData>) => {
    for (const s of [d.train, d.test]) await s.clips.ready!(Array.from({ length: s.count }, (_, i) => i));
    return d;
  };
  const cold = await loadAll(prepareData(data, cfg, { cacheRoot: root }));
  assert.equal(cold.cache?.hits, 0);
  assert.ok((cold.cache?.writes ?? 0) === cold.train.count + cold.test.count);
  const warm = await loadAll(prepareData(data, cfg, { cacheRoot: root }));
  assert.equal(warm.cache?.misses, 0);
  assert.equal(warm.cache?.hits, cold.cache?.writes);
  const onDemand = prepareData(data, cfg, { cacheRoot: root, inMemoryLimit: 0 });
  const none = prepareData(data, cfg);
  assert.equal(none.cache, null);
  assert.equal(onDemand.train.clips.resident, false);
  assert.equal(warm.train.clips.resident, true);
  const rows = Array.from({ length: cold.train.count }, (_, i) => i);
  await onDemand.train.clips.ready!(rows.slice(0, 5));
  for (const i of rows) {
    const path = cold.train.meta[i]!.path;
    const wave = fitLength(readWav(path, 16000), 16000);
    const lm = logMel(wave, { ...cfg.features.logmel, fMax: undefined, sampleRate: 16000 }).data;
    for (const s of [cold, warm, onDemand, none]) {
      assert.deepEqual(s.train.clips.logmel(i), lm, `log-Mel of ${path}`);
      assert.deepEqual(s.train.clips.wave(i), wave);
    }
  }
  assert.equal(featureCacheRoot('runs/abc', {}), join('runs', 'cache', 'features'));
  assert.equal(featureCacheRoot('runs/abc', { EXP_FEATURE_CACHE: 'off' }), null);
  assert.equal(featureCacheRoot('runs/abc', { EXP_FEATURE_CACHE: '/x/y' }), '/x/y');
  // Another clip length is another front end.
  assert.notEqual(featureCache(root, cfg).dir, featureCache(root, config({ data: { root: data, seconds: 0.5 } })).dir);
});

async function run(runDir: string, env: string | undefined): Promise<TrainEvent[]> {
  const events: TrainEvent[] = [];
  const before = process.env.EXP_FEATURE_CACHE;
  if (env === undefined) delete process.env.EXP_FEATURE_CACHE;
  else process.env.EXP_FEATURE_CACHE = env;
  try {
    await train({ config: config(), runDir, backend: 'wasm', onEvent: (e) => void events.push(e) });
  } finally {
    if (before === undefined) delete process.env.EXP_FEATURE_CACHE;
    else process.env.EXP_FEATURE_CACHE = before;
  }
  return events;
}

/** Everything a run reports except timings. */
function results(events: TrainEvent[]) {
  return events.flatMap((e) => {
    if (e.kind === 'step') return [['step', e.epoch, e.step, e.loss]];
    if (e.kind === 'epoch') return [['epoch', e.epoch, e.loss, e.terms]];
    if (e.kind === 'eval') return [['eval', e.scores.map((s) => [s.path, s.score])]];
    return [];
  });
}

test('a run gives bit-identical losses and scores with the cache off, cold and warm', async () => {
  const runs = join(dir, 'runs');
  const off = results(await run(join(runs, 'a'), 'off'));
  const cold = results(await run(join(runs, 'b'), undefined));
  assert.ok(readdirSync(join(runs, 'cache', 'features')).length === 1, 'the cache was written beside the runs');
  const warm = results(await run(join(runs, 'c'), undefined));
  assert.ok(off.filter((r) => r[0] === 'step').length === 2 * 4, '4 steps per epoch');
  assert.deepEqual(cold, off);
  assert.deepEqual(warm, off);
});

test('a split read on demand (loaded a batch ahead) trains and scores exactly as one held in memory', async () => {
  const { initBackend } = await import('../src/backend/select.js');
  const { buildSystem } = await import('../src/systems/build.js');
  const { defaultCatalog } = await import('../src/parts/builtin.js');
  const { runLoop } = await import('../src/train/loop.js');
  await initBackend('wasm');
  const cfg = config({ train: { epochs: 1, batchSize: 6, microBatch: 2, lr: 0.001, valSplit: 0.25 } });
  const once = async (inMemoryLimit: number | undefined, name: string) => {
    const d = prepareData(data, cfg, inMemoryLimit === undefined ? {} : { inMemoryLimit });
    const system = buildSystem(
      cfg,
      d.index.classes.map((c) => ({ type: c.type, machineId: c.machineId })),
      defaultCatalog(),
    );
    const events: TrainEvent[] = [];
    try {
      await runLoop({
        config: cfg,
        system,
        train: d.train,
        val: d.val,
        test: d.test,
        runDir: join(dir, 'loop', name),
        emit: async (e) => void events.push(e),
        defaultMicroBatch: 2,
        evalBatch: 5,
      });
    } finally {
      system.dispose();
    }
    return { events, onDemand: d.train.clips.resident === false && d.test.clips.resident === false };
  };
  const held = await once(undefined, 'held');
  const read = await once(0, 'read');
  assert.equal(held.onDemand, false);
  assert.equal(read.onDemand, true);
  const withVal = (ev: TrainEvent[]) => ev.flatMap((e) => (e.kind === 'epoch' ? [e.valLoss] : []));
  assert.ok(withVal(held.events).every((v) => typeof v === 'number'));
  assert.deepEqual(withVal(read.events), withVal(held.events));
  assert.deepEqual(results(read.events), results(held.events));
});
