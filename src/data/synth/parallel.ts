import { availableParallelism } from 'node:os';
import { UserError } from '../../util/errors.js';
import { runWorkerPool, startModuleWorker } from '../../util/worker-pool.js';
import {
  beginSet,
  locateSyntheticSet,
  planClips,
  synthesize,
  validateSynthOptions,
  type SynthManifestClip,
  type SynthOptions,
} from './generate.js';
import type { FromSynthWorker, ToSynthWorker } from './worker-protocol.js';

/**
 * The synthetic set written by several worker threads: each clip is a pure function of its spec
 * (renderClip), so the threads render and write disjoint clips and this thread puts the manifest
 * together in the set's order: the same bytes as synthesize() on one thread
 * (test/data-synth-parallel.test.ts compares them file by file).
 */

/** Clips handed to a worker at a time: enough to amortise a message, few enough to balance the load. */
const CHUNK = 8;

/**
 * Writes the whole set into `opts.out`, like synthesize(), on `threads` worker threads (default
 * the cores; 1 = on this thread). Resolves to the number of clips.
 */
export async function synthesizeParallel(
  opts: SynthOptions,
  onClip?: (done: number, total: number) => void,
  threads = availableParallelism(),
): Promise<number> {
  validateSynthOptions(opts);
  const total = planClips(opts).length;
  const workers = Math.min(threads, Math.ceil(total / CHUNK));
  if (workers <= 1) return synthesize(opts, onClip);
  const set = beginSet(opts);
  const entries: Array<SynthManifestClip | null> = new Array<SynthManifestClip | null>(total).fill(null);
  let next = 0;
  let done = 0;
  await runWorkerPool<ToSynthWorker, FromSynthWorker>({
    size: workers,
    start: () => startModuleWorker(import.meta.url, 'worker', { workerData: opts }),
    take: () => {
      if (next >= total) return undefined;
      const start = next;
      next = Math.min(total, next + CHUNK);
      return { start, end: next };
    },
    receive: (m) => {
      if (m.kind === 'failed') throw m.user ? new UserError(m.message, m.hint) : new Error(m.message);
      m.entries.forEach((e, k) => {
        entries[m.start + k] = e;
        onClip?.(++done, total);
      });
    },
    lost: (code) => new Error(`a synthetic data worker exited with code ${code} before writing its clips`),
  });
  for (const e of entries) if (e) set.manifest.test.push(e);
  return set.finish();
}

/** ensureSyntheticDataset (src/data/synth/generate.ts), generated on worker threads. */
export async function ensureSyntheticDatasetParallel(
  opts: Parameters<typeof locateSyntheticSet>[0] = {},
  onClip?: (done: number, total: number) => void,
): Promise<string> {
  const set = locateSyntheticSet(opts);
  if (set.ready) return set.root;
  try {
    await synthesizeParallel({ ...set.options, out: set.tmp }, onClip);
    set.commit();
  } finally {
    set.cleanUp();
  }
  return set.root;
}
