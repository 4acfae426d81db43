import { dirname, join } from 'node:path';
import type { ExperimentConfig } from '../config/schema.js';
import type { Clip, DatasetIndex } from '../data/dcase.js';
import { indexDataset } from '../data/dcase.js';
import { selectTrainClips, selectTestClips, splitValidation } from '../data/select.js';
import { decodeWav, fitLength, readWavBytes, readWavBytesAsync } from '../audio/wav.js';
import { logMel, logMelPlan, type LogMelPlan } from '../features/logmel.js';
import { FeatureCache, contentKey, moduleFiles } from '../features/cache.js';
import type { ClipArrays } from './batch.js';
import type { Split } from './loop.js';
import { UserError } from '../util/errors.js';

/**
 * Above this many bytes of waveforms + log-Mels a split is read from disk per batch instead of
 * held in memory (the real DCASE training set is ~23 GB of 10 s waveforms).
 */
const IN_MEMORY_LIMIT = 6 * 1024 ** 3;

/** Default bound of the feature cache (all front ends together); EXP_FEATURE_CACHE_MB overrides. */
const DEFAULT_CACHE_MB = 8192;

export interface PreparedData {
  index: DatasetIndex;
  numClasses: number;
  train: Split;
  val: Split | null;
  test: Split;
  /** Feature-cache use while preparing (null without a cache). */
  cache: FeatureCache['stats'] | null;
}

export interface PrepareOptions {
  /** Root of the feature cache (see featureCacheRoot); null or absent = compute every clip. */
  cacheRoot?: string | null;
  /** Bound of the cache in bytes (default EXP_FEATURE_CACHE_MB, else 8 GiB). */
  cacheBytes?: number;
  /** A split above this many bytes is read per batch instead of held (tests lower it). */
  inMemoryLimit?: number;
}

/**
 * Where a run's feature cache lives: `EXP_FEATURE_CACHE` when set (`off` or `0` turns the cache
 * off), else `cache/features` beside the run directories (`runs/cache/features` for the default
 * store, next to the audio-check cache and the shader cache).
 */
export function featureCacheRoot(runDir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env.EXP_FEATURE_CACHE;
  if (v === 'off' || v === '0') return null;
  if (v) return v;
  return join(dirname(runDir), 'cache', 'features');
}

function cacheBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.EXP_FEATURE_CACHE_MB;
  const mb = v === undefined || v === '' ? DEFAULT_CACHE_MB : Number(v);
  if (!Number.isFinite(mb) || mb < 0)
    throw new UserError(`EXP_FEATURE_CACHE_MB: expected a number of megabytes >= 0, got '${v}'`);
  return mb * 1024 ** 2;
}

/** A clip's waveform (cut or padded to the configured length) and its log-Mel. */
interface ClipFeatures {
  wave: Float32Array;
  mel: Float32Array;
}

/**
 * Decodes clips and computes their log-Mels, through the feature cache when there is one: the
 * log-Mel of a clip whose bytes, front-end options and front-end code were seen before is read,
 * not recomputed (the waveform is always decoded: Tgram learns from it, and decoding is cheap).
 */
class ClipLoader {
  readonly samples: number;
  readonly nMels: number;
  readonly frames: number;
  private readonly plan: LogMelPlan;

  constructor(
    config: ExperimentConfig,
    private readonly cache: FeatureCache | null,
  ) {
    this.samples = Math.round(config.data.seconds * config.data.sampleRate);
    this.plan = planFor(config);
    this.nMels = this.plan.options.nMels;
    this.frames = this.plan.frames(this.samples);
  }

  load(path: string): ClipFeatures {
    const bytes = readWavBytes(path);
    const key = this.cache ? contentKey(bytes) : null;
    return this.finish(path, bytes, key, key === null ? null : this.cache!.get(key, this.nMels * this.frames));
  }

  async loadAsync(path: string): Promise<ClipFeatures> {
    const bytes = await readWavBytesAsync(path);
    const key = this.cache ? contentKey(bytes) : null;
    const cached = key === null ? null : await this.cache!.getAsync(key, this.nMels * this.frames);
    return this.finish(path, bytes, key, cached);
  }

  private finish(path: string, bytes: Uint8Array, key: string | null, cached: Float32Array | null): ClipFeatures {
    const wave = fitLength(decodeWav(bytes, path, this.plan.options.sampleRate), this.samples);
    if (cached) return { wave, mel: cached };
    const mel = logMel(wave, this.plan.options).data;
    if (key !== null) this.cache!.put(key, mel);
    return { wave, mel };
  }
}

function planFor(config: ExperimentConfig): LogMelPlan {
  const lm = config.features.logmel;
  return logMelPlan({ ...lm, fMax: lm.fMax ?? undefined, sampleRate: config.data.sampleRate });
}

/** The feature cache for a config's front end under `root`. */
export function featureCache(root: string, config: ExperimentConfig, maxBytes = cacheBytesFromEnv()): FeatureCache {
  const plan = planFor(config);
  return new FeatureCache({
    root,
    frontEnd: { logmel: plan.options, samples: Math.round(config.data.seconds * config.data.sampleRate) },
    code: moduleFiles(import.meta.url, ['../features/logmel', '../features/fft', '../features/mel', '../audio/wav']),
    maxBytes,
  });
}

/**
 * Waveforms and log-Mels for a list of clips: in memory, or read on demand (a split larger than
 * the in-memory limit) with `ready()` loading a batch ahead asynchronously.
 */
export function clipArrays(
  clips: readonly Clip[],
  config: ExperimentConfig,
  cache: FeatureCache | null = null,
  inMemoryLimit = IN_MEMORY_LIMIT,
  /** Clips an on-demand split keeps loaded (a few batches). */
  keep = Math.max(64, 4 * config.train.batchSize),
): ClipArrays {
  const loader = new ClipLoader(config, cache);
  const { samples, nMels, frames } = loader;
  const bytes = clips.length * (samples + nMels * frames) * 4;
  if (bytes <= inMemoryLimit) {
    const loaded = clips.map((c) => loader.load(c.path));
    return { samples, nMels, frames, wave: (i) => loaded[i]!.wave, logmel: (i) => loaded[i]!.mel };
  }
  return onDemand(clips, loader, keep);
}

/**
 * A split too large to hold: the last `keep` clips used stay loaded (least recently used go
 * first); `ready(rows)` loads the missing ones with asynchronous reads, so the trainer can ask
 * for the next batch while the current step runs. A clip asked for before it is ready loads
 * synchronously.
 */
function onDemand(clips: readonly Clip[], loader: ClipLoader, keep: number): ClipArrays {
  const held = new Map<number, ClipFeatures>();
  const loading = new Map<number, Promise<void>>();
  const hold = (i: number, f: ClipFeatures) => {
    held.delete(i);
    held.set(i, f);
    while (held.size > keep) held.delete(held.keys().next().value as number);
  };
  const get = (i: number): ClipFeatures => {
    const f = held.get(i) ?? loader.load(clips[i]!.path);
    hold(i, f);
    return f;
  };
  const fetch = (i: number): Promise<void> => {
    const f = held.get(i);
    if (f) {
      hold(i, f);
      return Promise.resolve();
    }
    let p = loading.get(i);
    if (!p) {
      p = loader.loadAsync(clips[i]!.path).then(
        (f) => {
          loading.delete(i);
          hold(i, f);
        },
        (e: unknown) => {
          loading.delete(i);
          throw e;
        },
      );
      loading.set(i, p);
    }
    return p;
  };
  return {
    samples: loader.samples,
    nMels: loader.nMels,
    frames: loader.frames,
    wave: (i) => get(i).wave,
    logmel: (i) => get(i).mel,
    ready: async (rows) => {
      await Promise.all([...new Set(rows)].map(fetch));
    },
  };
}

function split(clips: readonly Clip[], config: ExperimentConfig, cache: FeatureCache | null, limit?: number): Split {
  return {
    clips: clipArrays(clips, config, cache, limit),
    count: clips.length,
    classIndex: Int32Array.from(clips.map((c) => c.classIndex)),
    meta: clips.map((c) => ({ path: c.path, type: c.type, id: c.machineId, label: c.label })),
  };
}

/**
 * Indexes the root, picks training / validation / test clips and loads them. The validation
 * hold-out (train.valSplit) is drawn per machine ID from the run seed; it never touches test data.
 */
export function prepareData(root: string, config: ExperimentConfig, opts: PrepareOptions = {}): PreparedData {
  const index = indexDataset(root, { types: config.data.types });
  const trainAll = selectTrainClips(index, { maxClipsPerId: config.data.maxClipsPerId, seed: config.seed });
  const test = selectTestClips(index, { maxPerId: config.data.maxTestClipsPerId, seed: config.seed });
  if (test.length === 0)
    throw new UserError(`${root}: no test clips found (expected <type>/test/{normal,anomaly}_id_XX_*.wav)`);
  const frac = config.train.valSplit;
  const { train, val } = frac === null ? { train: trainAll, val: [] } : splitValidation(trainAll, frac, config.seed);
  if (train.length < 2)
    throw new UserError(`${root}: only ${train.length} training clip(s) selected; need at least 2 for a batch`);
  const cache = opts.cacheRoot ? featureCache(opts.cacheRoot, config, opts.cacheBytes) : null;
  const limit = opts.inMemoryLimit;
  const prepared: PreparedData = {
    index,
    numClasses: index.classes.length,
    train: split(train, config, cache, limit),
    val: val.length > 0 ? split(val, config, cache, limit) : null,
    test: split(test, config, cache, limit),
    cache: cache?.stats ?? null,
  };
  if (cache && cache.stats.writes > 0) cache.prune();
  return prepared;
}
