import * as tf from '@tensorflow/tfjs';
import type { ModelInputs } from '../model/types.js';

/**
 * Training and test clips held in memory as flat Float32Arrays: waveforms (for Tgram) and their
 * log-Mel maps (for every other branch). Log-Mel has no weights, so it is computed once per clip
 * and reused every epoch instead of inside the graph.
 */
export interface ClipArrays {
  /** Samples per clip (seconds * sampleRate). */
  samples: number;
  nMels: number;
  frames: number;
  wave(i: number): Float32Array;
  logmel(i: number): Float32Array;
  /**
   * Loads clips ahead of use (their features are computed when first needed): returns at once
   * and resolves once `wave` and `logmel` of every row are at hand, the loading done in the
   * event loop's turns meanwhile. Absent when everything was computed beforehand.
   */
  ready?(rows: readonly number[]): Promise<void>;
  /** Whether loaded clips stay in memory (false: a split too large to hold, read per batch). */
  resident?: boolean;
  /** Distinct clips whose features have been computed or read so far (progress, tests). */
  loaded?(): number;
}

/**
 * Builds the model inputs of a (micro-)batch. With `mix`, clip i is blended with its partner:
 * x = lam * x_i + (1 - lam) * x_partner, for the waveform and the log-Mel with the same lam, as
 * the TASTgram code does (its training loop mixes the log-Mel directly; it is not recomputed from the mixed waveform).
 */
export function makeInputs(
  clips: ClipArrays,
  rows: readonly number[],
  mix?: { partners: readonly number[]; lam: number },
): ModelInputs {
  const b = rows.length;
  const wave = new Float32Array(b * clips.samples);
  const lm = new Float32Array(b * clips.nMels * clips.frames);
  const lmSize = clips.nMels * clips.frames;
  for (let r = 0; r < b; r++) {
    const w = clips.wave(rows[r]!);
    const m = clips.logmel(rows[r]!);
    if (!mix || mix.lam === 1) {
      wave.set(w, r * clips.samples);
      lm.set(m, r * lmSize);
      continue;
    }
    const w2 = clips.wave(mix.partners[r]!);
    const m2 = clips.logmel(mix.partners[r]!);
    const a = mix.lam;
    const c = 1 - mix.lam;
    const wo = r * clips.samples;
    for (let i = 0; i < clips.samples; i++) wave[wo + i] = a * w[i]! + c * w2[i]!;
    const mo = r * lmSize;
    for (let i = 0; i < lmSize; i++) lm[mo + i] = a * m[i]! + c * m2[i]!;
  }
  return {
    wave: tf.tensor2d(wave, [b, clips.samples]),
    logmel: tf.tensor3d(lm, [b, clips.nMels, clips.frames]),
  };
}
