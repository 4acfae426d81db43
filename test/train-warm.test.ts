import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../src/data/synth/generate.js';
import { validateExperiment } from '../src/config/load.js';
import type { ExperimentConfig } from '../src/config/schema.js';
import { prepareData, featureCache } from '../src/train/data.js';
import { warmFeatureCache, warmJobs } from '../src/train/warm.js';
import { logMel } from '../src/features/logmel.js';
import { readWav, fitLength } from '../src/audio/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'exp-warm-'));
const data = join(dir, 'data');

function config(extra: Record<string, unknown> = {}): ExperimentConfig {
  return validateExperiment(
    {
      name: 'warm',
      seed: 5,
      data: { root: data, seconds: 1 },
      features: { branches: ['logmel', 'tgram'], logmel: { nFft: 512, hop: 256, nMels: 32 } },
      loss: { metric: null },
      train: { epochs: 1, batchSize: 4, lr: 0.001 },
      ...extra,
    },
    'test',
  );
}

before(() => {
  synthesize({ out: data, seed: 1, types: ['fan', 'valve'], ids: 2, train: 6, test: 4, seconds: 1, sampleRate: 16000 });
});

const entries = (c: ExperimentConfig, root: string): string[] => {
  try {
    return readdirSync(featureCache(root, c).dir).filter((n) => n.endsWith('.f32'));
  } catch {
    return [];
  }
};

test('the warm-up puts every clip of every front end in the cache, once, with the values a run computes', async () => {
  const root = join(dir, 'cache-a');
  const a = config();
  // Same front end, another clip selection (fewer training clips): its clips are among a's.
  const b = config({ data: { root: data, seconds: 1, maxClipsPerId: 2 }, seed: 9 });
  const other = config({ features: { branches: ['logmel', 'tgram'], logmel: { nFft: 512, hop: 128, nMels: 32 } } });
  const jobs = warmJobs([a, b, other], root);
  const clips = (c: ExperimentConfig) => {
    const d = prepareData(data, c);
    return d.train.count + (d.val?.count ?? 0) + d.test.count;
  };
  assert.equal(
    jobs.reduce((n, j) => n + j.paths.length, 0),
    clips(a) + clips(other),
    'b adds no clip: the union per front end',
  );
  const r = await warmFeatureCache([a, b, other], root, { threads: 2 });
  assert.equal(r.clips, clips(a) + clips(other));
  assert.equal(r.computed, r.clips, 'an empty cache: every clip computed');
  assert.equal(entries(a, root).length, clips(a));
  assert.equal(entries(other, root).length, clips(other));
  const again = await warmFeatureCache([a], root, { threads: 2 });
  assert.equal(again.computed, 0, 'a second warm-up computes nothing');

  // A run over the warm cache reads every clip (no miss, no write) and gets the log-Mels it would compute.
  const run = prepareData(data, a, { cacheRoot: root });
  for (let i = 0; i < run.test.count; i++) {
    const want = logMel(fitLength(readWav(run.test.meta[i]!.path, 16000), 16000), {
      nFft: 512,
      hop: 256,
      nMels: 32,
      sampleRate: 16000,
    }).data;
    assert.deepEqual(run.test.clips.logmel(i), want);
  }
  for (let i = 0; i < run.train.count; i++) run.train.clips.logmel(i);
  assert.deepEqual(run.cache, { hits: run.train.count + run.test.count, misses: 0, writes: 0 });
});

test('an aborted warm-up stops handing out clips', async () => {
  const root = join(dir, 'cache-b');
  const stop = new AbortController();
  stop.abort();
  const r = await warmFeatureCache([config()], root, { threads: 2, signal: stop.signal });
  assert.equal(r.computed, 0);
  assert.equal(entries(config(), root).length, 0);
});

test('the sweep engine runs its prepare hook once, with the queued trials, before the first starts', async () => {
  const { sweepDir, FAKE } = await import('./fixtures/sweep-env.js');
  const { loadSweep } = await import('../src/sweep/spec.js');
  const { SweepEngine } = await import('../src/sweep/engine.js');
  process.env.EXP_TRAINER_MODULE = FAKE;
  process.env.EXP_FAKE_STEP_MS = '5';
  const { sweep, db } = sweepDir({ trials: 2, epochs: 1 });
  const calls: Array<{ seeds: number[]; started: number }> = [];
  const open = async () => {
    const engine: InstanceType<typeof SweepEngine> = await SweepEngine.open({
      sweep: loadSweep(sweep),
      dbFile: db,
      concurrency: 2,
      backend: 'cpu',
      rerunFailed: false,
      force: false,
      prepare: {
        what: 'warming',
        run: async (configs) => {
          const started = engine.state.get().trials.filter((t) => t.status !== 'queued').length;
          calls.push({ seeds: configs.map((c) => c.seed), started });
        },
      },
    });
    const summary = await engine.run();
    await engine.close();
    return summary;
  };
  try {
    assert.equal((await open()).done, 2);
    assert.deepEqual(calls, [{ seeds: [0, 1], started: 0 }]);
    assert.equal((await open()).done, 2, 'the second run finds both done');
    assert.equal(calls.length, 1, 'nothing queued: no prepare');
  } finally {
    delete process.env.EXP_TRAINER_MODULE;
    delete process.env.EXP_FAKE_STEP_MS;
  }
});
