import type { ExperimentConfig } from '../config/schema.js';

/** Messages between warmFeatureCache (src/train/warm.ts) and its worker threads. */

/** Load these clips of the config's front end through the cache under cacheRoot. */
export interface ToWarmWorker {
  config: ExperimentConfig;
  cacheRoot: string;
  paths: string[];
}

export type FromWarmWorker =
  | { kind: 'ready' }
  /** The clips of the last message are in the cache; `computed` of them were computed. */
  | { kind: 'done'; clips: number; computed: number }
  | { kind: 'failed'; message: string };
