import type { SynthManifestClip } from './generate.js';

/** Messages between synthesizeParallel (src/data/synth/parallel.ts) and its worker threads. */

/** Write clips start .. end - 1 of the set's plan. */
export interface ToSynthWorker {
  start: number;
  end: number;
}

export type FromSynthWorker =
  | { kind: 'ready' }
  /** Clips start .. start + entries.length - 1 are written; their manifest entries (null: a training clip). */
  | { kind: 'wrote'; start: number; entries: Array<SynthManifestClip | null> }
  | { kind: 'failed'; message: string; hint?: string; user: boolean };
