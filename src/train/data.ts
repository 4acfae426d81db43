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
 * kept in memory once loaded (the real DCASE training set is ~23 GB of 10 s waveforms).
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
  /** Feature-cache use so far (live: features are loaded as training reaches them; null without a cache). */
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

/**
 * Puts the log-Mels of `paths` into the feature cache under `cacheRoot` (the ones already there
 * are read and checked, the rest computed): what a run with this front end reads back instead of
 * computing. Returns how many were computed.
 */
export function warmClips(config: ExperimentConfig, cacheRoot: string, paths: readonly string[]): number {
  const cache = featureCache(cacheRoot, config);
  const loader = new ClipLoader(config, cache);
  const before = cache.stats.writes;
  for (const p of paths) loader.load(p);
  return cache.stats.writes - before;
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
 * Waveforms and log-Mels for a list of clips, computed when first needed (through the feature
 * cache). A split that fits in memory keeps every clip once loaded; a larger one (above the
 * in-memory limit) keeps the last `keep` used. Either way training starts once its first batch's
 * features are at hand, not the whole split's, and `ready(rows)` computes the next batch's while
 * the current step runs (see LazyClips).
 */
export function clipArrays(
  clips: readonly Clip[],
  config: ExperimentConfig,
  cache: FeatureCache | null = null,
  inMemoryLimit = IN_MEMORY_LIMIT,
  /** Clips a split read on demand keeps loaded (a few batches). */
  keep = Math.max(64, 4 * config.train.batchSize),
  /** Called once, when every clip of the split has been loaded at least once. */
  onAllLoaded: () => void = () => {},
): ClipArrays {
  const loader = new ClipLoader(config, cache);
  const { samples, nMels, frames } = loader;
  const bytes = clips.length * (samples + nMels * frames) * 4;
  const resident = bytes <= inMemoryLimit;
  const lazy = new LazyClips(clips, loader, resident ? Number.POSITIVE_INFINITY : keep, onAllLoaded);
  return {
    samples,
    nMels,
    frames,
    resident,
    wave: (i) => lazy.get(i).wave,
    logmel: (i) => lazy.get(i).mel,
    ready: (rows) => lazy.ready(rows),
    loaded: () => lazy.loaded,
  };
}

/** Lets other work run (a device step's completion, a signal, a heartbeat) between two clips. */
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Clips loaded when first used. `ready(rows)` queues the missing ones and returns at once; a
 * queue loads them one at a time, in the order asked for, yielding to the event loop before
 * each clip (asynchronous file reads, then the log-Mel). So while a training step waits for its
 * device (an asynchronous GPU step, or the yields between micro-batches on wasm), the next
 * batch's features are computed, and the step picks up its result as soon as it is there. A clip
 * asked for before it is ready loads synchronously. Features are a pure function of the clip,
 * so when a clip is loaded never changes a number.
 */
class LazyClips {
  private readonly held = new Map<number, ClipFeatures>();
  private readonly queued = new Map<number, Promise<void>>();
  private tail: Promise<void> = Promise.resolve();
  private readonly seen: Uint8Array;
  /** Distinct clips loaded so far (reloads after an eviction not counted). */
  loaded = 0;

  constructor(
    private readonly clips: readonly Clip[],
    private readonly loader: ClipLoader,
    private readonly keep: number,
    private readonly onAllLoaded: () => void,
  ) {
    this.seen = new Uint8Array(clips.length);
  }

  get(i: number): ClipFeatures {
    const f = this.held.get(i) ?? this.loader.load(this.clips[i]!.path);
    this.hold(i, f);
    return f;
  }

  async ready(rows: readonly number[]): Promise<void> {
    await Promise.all([...new Set(rows)].map((i) => this.fetch(i)));
  }

  /** Keeps `f` as clip i's, most recently used last; beyond `keep` the least recently used go. */
  private hold(i: number, f: ClipFeatures): void {
    this.held.delete(i);
    this.held.set(i, f);
    while (this.held.size > this.keep) this.held.delete(this.held.keys().next().value as number);
    if (this.seen[i] === 0) {
      this.seen[i] = 1;
      if (++this.loaded === this.clips.length) this.onAllLoaded();
    }
  }

  private fetch(i: number): Promise<void> {
    const f = this.held.get(i);
    if (f) {
      this.hold(i, f);
      return Promise.resolve();
    }
    let p = this.queued.get(i);
    if (!p) {
      p = this.tail.then(async () => {
        try {
          await yieldToEventLoop();
          // Loaded synchronously meanwhile (asked for before its turn): nothing left to do.
          if (!this.held.has(i)) this.hold(i, await this.loader.loadAsync(this.clips[i]!.path));
        } finally {
          this.queued.delete(i);
        }
      });
      this.queued.set(i, p);
      // A failed clip fails its own callers (who retry by asking again), never the clips after it.
      this.tail = p.catch(() => {});
    }
    return p;
  }
}

function split(
  clips: readonly Clip[],
  config: ExperimentConfig,
  cache: FeatureCache | null,
  limit: number | undefined,
  onAllLoaded: () => void,
): Split {
  return {
    clips: clipArrays(clips, config, cache, limit, undefined, onAllLoaded),
    count: clips.length,
    classIndex: Int32Array.from(clips.map((c) => c.classIndex)),
    meta: clips.map((c) => ({ path: c.path, type: c.type, id: c.machineId, label: c.label })),
  };
}

/**
 * Indexes the root and picks training / validation / test clips; their features are computed when
 * training first needs them (clipArrays), so the first step does not wait for the whole split. The validation
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
  // Features are computed as training reaches them, so the cache is kept within its bound each
  // time a split has been loaded whole, when something was written since the last time.
  let prunedAt = 0;
  const prune = () => {
    if (!cache || cache.stats.writes === prunedAt) return;
    prunedAt = cache.stats.writes;
    cache.prune();
  };
  return {
    index,
    numClasses: index.classes.length,
    train: split(train, config, cache, limit, prune),
    val: val.length > 0 ? split(val, config, cache, limit, prune) : null,
    test: split(test, config, cache, limit, prune),
    cache: cache?.stats ?? null,
  };
}
