import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../src/data/synth/generate.js';
import { validateExperiment } from '../src/config/load.js';
import type { ExperimentConfig } from '../src/config/schema.js';
import { prepareData, type PreparedData } from '../src/train/data.js';
import { readWav, fitLength } from '../src/audio/wav.js';
import { logMel } from '../src/features/logmel.js';
import type { TrainEvent } from '../src/train/index.js';
import { epochBatches } from '../src/train/plan.js';

// Feature extraction of a split held in memory overlaps with training: a clip's log-Mel is
// computed when training first needs it, the next batch's while the current step runs, so the
// first step never waits for the whole split. Counted with the splits' `loaded()`, never timed.

const dir = mkdtempSync(join(tmpdir(), 'exp-overlap-'));
const data = join(dir, 'data');
const BATCH = 6;

function config(): ExperimentConfig {
  return validateExperiment(
    {
      name: 'overlap',
      seed: 3,
      data: { root: data, seconds: 1 },
      features: { branches: ['logmel', 'tgram'], logmel: { nFft: 512, hop: 256, nMels: 32 } },
      loss: { metric: null },
      train: { epochs: 1, batchSize: BATCH, microBatch: 2, lr: 0.001, valSplit: 0.25 },
    },
    'test',
  );
}

before(() => {
  // 2 types x 2 IDs x 10 normal training clips: 30 to train on (5 steps of 6), 10 held out.
  synthesize({
    out: data,
    seed: 4,
    types: ['fan', 'valve'],
    ids: 2,
    train: 10,
    test: 4,
    seconds: 1,
    sampleRate: 16000,
  });
});

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('ready() returns at once; the clips load one event-loop turn at a time while the caller awaits something else', async () => {
  const cfg = config();
  const d = prepareData(data, cfg);
  const clips = d.train.clips;
  assert.equal(clips.resident, true, 'this split is held in memory');
  assert.equal(clips.loaded!(), 0, 'nothing is computed when the data is prepared');
  const rows = [0, 1, 2, 3, 4, 5];
  let done = false;
  const p = clips.ready!(rows).then(() => {
    done = true;
  });
  assert.equal(clips.loaded!(), 0, 'ready() computed nothing before returning: the step continues at once');
  // Another task (as a step awaiting its device) takes turns of the event loop meanwhile.
  const seen: number[] = [];
  for (let turns = 0; !done; turns++) {
    assert.ok(turns < 100_000, 'the clips never finished loading');
    await turn();
    seen.push(clips.loaded!());
  }
  await p;
  assert.equal(clips.loaded!(), rows.length);
  assert.ok(
    seen.some((n) => n > 0 && n < rows.length),
    `the other task ran between two clips (loaded counts seen: ${[...new Set(seen)].join(', ')})`,
  );
  const lm = cfg.features.logmel;
  for (const i of rows) {
    const wave = fitLength(readWav(d.train.meta[i]!.path, 16000), 16000);
    assert.deepEqual(clips.wave(i), wave);
    assert.deepEqual(clips.logmel(i), logMel(wave, { ...lm, fMax: undefined, sampleRate: 16000 }).data);
  }
  assert.equal(clips.loaded!(), rows.length, 'reading loaded clips computes nothing again');
});

interface Trace {
  count: number;
  /** Training clips loaded when the first forward pass began, and at each step's end. */
  atFirstForward: number;
  atSteps: number[];
  results: unknown[];
}

/** Everything a run reports except timings. */
function results(events: TrainEvent[]): unknown[] {
  return events.flatMap((e) => {
    if (e.kind === 'step') return [['step', e.epoch, e.step, e.loss]];
    if (e.kind === 'epoch') return [['epoch', e.epoch, e.loss, e.terms, e.valLoss]];
    if (e.kind === 'eval') return [['eval', e.epoch, e.scores.map((s) => [s.path, s.score])]];
    return [];
  });
}

async function trainOn(d: PreparedData, cfg: ExperimentConfig, name: string): Promise<Trace> {
  const { initBackend } = await import('../src/backend/select.js');
  const { buildSystem } = await import('../src/systems/build.js');
  const { defaultCatalog } = await import('../src/parts/builtin.js');
  const { runLoop } = await import('../src/train/loop.js');
  await initBackend('wasm');
  const system = buildSystem(
    cfg,
    d.index.classes.map((c) => ({ type: c.type, machineId: c.machineId })),
    defaultCatalog(),
  );
  let atFirstForward = -1;
  const objective = system.objective.bind(system);
  system.objective = (...args) => {
    if (atFirstForward < 0) atFirstForward = d.train.clips.loaded!();
    return objective(...args);
  };
  const events: TrainEvent[] = [];
  const atSteps: number[] = [];
  try {
    await runLoop({
      config: cfg,
      system,
      train: d.train,
      val: d.val,
      test: d.test,
      runDir: join(dir, 'runs', name),
      emit: async (e) => {
        if (e.kind === 'step' && e.epoch === 1) atSteps.push(d.train.clips.loaded!());
        events.push(e);
      },
      defaultMicroBatch: 2,
      evalBatch: 5,
    });
  } finally {
    system.dispose();
  }
  return { count: d.train.count, atFirstForward, atSteps, results: results(events) };
}

test('the first step starts after its own batch is loaded, not the whole split; losses and scores equal a run whose features were all computed first', async () => {
  const cfg = config();
  const everything = async (d: PreparedData) => {
    for (const s of [d.train, d.val!, d.test]) await s.clips.ready!(Array.from({ length: s.count }, (_, i) => i));
    return d;
  };
  // Before: every feature computed before the first step (what prepareData used to do).
  const upFront = await trainOn(await everything(prepareData(data, cfg)), cfg, 'up-front');
  const lazy = await trainOn(prepareData(data, cfg), cfg, 'lazy');
  const n = lazy.count;
  assert.ok(n > 4 * BATCH, `${n} training clips`);
  assert.equal(upFront.atFirstForward, n, 'the counter sees a whole split computed before the first step');
  // At most this step's clips and the next step's (being loaded while this one runs).
  assert.ok(
    lazy.atFirstForward >= 1 && lazy.atFirstForward <= 2 * BATCH,
    `${lazy.atFirstForward} of ${n} clips were loaded before the first forward pass`,
  );
  assert.equal(lazy.atSteps.length, epochBatches(n, BATCH, false).length);
  lazy.atSteps.forEach((loaded, k) =>
    assert.ok(loaded <= Math.min(n, (k + 2) * BATCH), `after step ${k + 1}: ${loaded} clips loaded`),
  );
  assert.equal(lazy.atSteps.at(-1), n, 'the first epoch loaded every training clip');
  assert.ok(lazy.results.length > 0);
  assert.deepEqual(lazy.results, upFront.results);
});

test('the feature cache is kept within its bound once splits are loaded whole', async () => {
  const cfg = config();
  const root = join(dir, 'cache');
  // One entry is 28 + 4 * 32 * 63 bytes; a bound of 10 entries is exceeded by the training clips.
  const entry = 28 + 4 * 32 * 63;
  const d = prepareData(data, cfg, { cacheRoot: root, cacheBytes: 10 * entry });
  await d.train.clips.ready!(Array.from({ length: d.train.count }, (_, i) => i));
  assert.equal(d.cache?.writes, d.train.count);
  const files = readdirSync(root).flatMap((sub) => readdirSync(join(root, sub)).filter((f) => f.endsWith('.f32')));
  assert.ok(files.length <= 10, `${files.length} entries left under a bound of 10`);
});
