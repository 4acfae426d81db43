import { availableParallelism } from 'node:os';
import type { ExperimentConfig } from '../config/schema.js';
import { resolveData } from '../data/resolve.js';
import { runWorkerPool, startModuleWorker } from '../util/worker-pool.js';
import { featureCache, prepareData } from './data.js';
import type { FromWarmWorker, ToWarmWorker } from './warm-protocol.js';

/**
 * The feature cache filled before the trials of a sweep start, on every core. Trials that share a
 * front end read one cache, but trials started together all find it empty and each computes every
 * clip's log-Mel (the quick ablation: two trials at a time, each computing the same 2,340 clips on
 * its one thread). Computed once here, split over worker threads, they are read by all.
 */

/** Clips sent to a worker at a time. */
const CHUNK = 16;

export interface WarmOptions {
  threads?: number;
  signal?: AbortSignal;
}

export interface WarmResult {
  /** Distinct clips over all front ends. */
  clips: number;
  /** Of those, computed now (the others were in the cache already). */
  computed: number;
}

/** Every clip each config's run reads, grouped by front end (one cache directory each). */
export function warmJobs(configs: readonly ExperimentConfig[], cacheRoot: string): ToWarmWorker[] {
  const byFrontEnd = new Map<string, { config: ExperimentConfig; paths: Set<string> }>();
  for (const config of configs) {
    const dir = featureCache(cacheRoot, config).dir;
    const data = prepareData(resolveData(config), config);
    const group = byFrontEnd.get(dir) ?? { config, paths: new Set<string>() };
    for (const split of [data.train, data.val, data.test]) for (const m of split?.meta ?? []) group.paths.add(m.path);
    byFrontEnd.set(dir, group);
  }
  const jobs: ToWarmWorker[] = [];
  for (const { config, paths } of byFrontEnd.values()) {
    const list = [...paths];
    for (let i = 0; i < list.length; i += CHUNK) jobs.push({ config, cacheRoot, paths: list.slice(i, i + CHUNK) });
  }
  return jobs;
}

/**
 * Computes the log-Mels of every clip the configs' runs read into the cache under `cacheRoot`, on
 * `threads` worker threads (default: the cores). Features are a pure function of the clip and the
 * front end, so a run reading them gets the numbers it would have computed. Stops early (leaving
 * what is done) when `signal` aborts; a failure rejects, and the runs then compute what is missing
 * themselves.
 */
export async function warmFeatureCache(
  configs: readonly ExperimentConfig[],
  cacheRoot: string,
  opts: WarmOptions = {},
): Promise<WarmResult> {
  const jobs = warmJobs(configs, cacheRoot);
  const clips = jobs.reduce((n, j) => n + j.paths.length, 0);
  let computed = 0;
  let next = 0;
  const signal = opts.signal;
  if (signal?.aborted) return { clips, computed };
  await runWorkerPool<ToWarmWorker, FromWarmWorker>({
    size: Math.min(opts.threads ?? availableParallelism(), jobs.length),
    start: () => startModuleWorker(import.meta.url, 'warm-worker'),
    // An abort stops handing out clips; what is done stays in the cache.
    take: () => (signal?.aborted ? undefined : jobs[next++]),
    receive: (m) => {
      if (m.kind === 'failed') throw new Error(m.message);
      computed += m.computed;
    },
    lost: (code) => new Error(`a feature worker exited with code ${code} before its clips were done`),
  });
  return { clips, computed };
}
