import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from '../../util/errors.js';
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
 * A worker running the entry beside this file: compiled JS under dist/; under tsx (the tests) the
 * TypeScript file, loaded through tsx's loader registered in the worker first (a worker does
 * not take `--import tsx` from its execArgv on Node 20).
 */
function startWorker(opts: SynthOptions): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./worker.js', import.meta.url), { workerData: opts });
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
  // Resolved from here: the worker's own resolution starts in the working directory.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const boot = `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`;
  return new Worker(boot, { eval: true, workerData: opts });
}

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
  const pool: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      const fail = (e: unknown) => reject(e);
      for (let w = 0; w < workers; w++) {
        const worker = startWorker(opts);
        pool.push(worker);
        let busy = false;
        const give = () => {
          busy = next < total;
          if (!busy) {
            void worker.terminate();
            if (++finished === workers) resolve();
            return;
          }
          const start = next;
          next = Math.min(total, next + CHUNK);
          worker.postMessage({ start, end: next } satisfies ToSynthWorker);
        };
        worker.on('message', (m: FromSynthWorker) => {
          if (m.kind === 'ready') return give();
          if (m.kind === 'failed') return fail(m.user ? new UserError(m.message, m.hint) : new Error(m.message));
          m.entries.forEach((e, k) => {
            entries[m.start + k] = e;
            onClip?.(++done, total);
          });
          give();
        });
        worker.on('error', fail);
        worker.on('exit', (code) => {
          if (busy) fail(new Error(`a synthetic data worker exited with code ${code} before writing its clips`));
        });
      }
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
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
