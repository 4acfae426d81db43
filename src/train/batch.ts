import * as tf from '@tensorflow/tfjs';
import { filledTensor } from '../backend/kernels/filled.js';
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
  const lmSize = clips.nMels * clips.frames;
  const fillRows = (size: number, of: (i: number) => Float32Array) => (out: Float32Array) => {
    for (let r = 0; r < b; r++) {
      const x = of(rows[r]!);
      const o = r * size;
      if (!mix || mix.lam === 1) {
        out.set(x, o);
        continue;
      }
      const x2 = of(mix.partners[r]!);
      const a = mix.lam;
      const c = 1 - mix.lam;
      for (let i = 0; i < size; i++) out[o + i] = a * x[i]! + c * x2[i]!;
    }
  };
  return {
    wave: filledTensor(
      [b, clips.samples],
      fillRows(clips.samples, (i) => clips.wave(i)),
    ) as tf.Tensor2D,
    logmel: filledTensor(
      [b, clips.nMels, clips.frames],
      fillRows(lmSize, (i) => clips.logmel(i)),
    ) as tf.Tensor3D,
  };
}
