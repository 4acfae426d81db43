import { readWav, fitLength } from '../audio/wav.js';
import type { Clip } from './dcase.js';

export interface LoadOptions {
  sampleRate: number;
  /** Clip length used; each clip is cut or zero-padded to it (paper §2.4: 10 s). */
  seconds: number;
}

/**
 * Reads clips into one contiguous buffer, row i = clip i (length = seconds * sampleRate), the
 * layout the feature front end and tfjs want. Synchronous on purpose: decoding is CPU-bound and
 * a few thousand 10 s clips read in seconds (see docs/synthetic-data.md for the measurement).
 */
export function loadClips(
  clips: readonly Pick<Clip, 'path'>[],
  opts: LoadOptions,
): { length: number; data: Float32Array } {
  const length = Math.round(opts.seconds * opts.sampleRate);
  const data = new Float32Array(clips.length * length);
  clips.forEach((clip, i) => {
    data.set(fitLength(readWav(clip.path, opts.sampleRate), length), i * length);
  });
  return { length, data };
}

/** One clip, cut or padded to the configured length. */
export function loadClip(path: string, opts: LoadOptions): Float32Array {
  return fitLength(readWav(path, opts.sampleRate), Math.round(opts.seconds * opts.sampleRate));
}
