/**
 * Mel scales and the triangular mel filterbank (paper §2.1.2: 128 triangular filters on the HTK
 * scale over 0..8 kHz). The filter construction follows the definition shared by torchaudio's
 * `melscale_fbanks` and librosa's `filters.mel`: centres equally spaced in mel between fMin and
 * fMax, each filter rising linearly from the previous centre to its own and falling to the next,
 * evaluated at the STFT bin frequencies k·sr/nFft.
 */

export type MelScale = 'htk' | 'slaney';
export type MelNorm = 'none' | 'slaney';

// Slaney's Auditory Toolbox scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above with
// 27 mels per factor of 6.4.
const SLANEY_F_SP = 200 / 3;
const SLANEY_MIN_LOG_HZ = 1000;
const SLANEY_MIN_LOG_MEL = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;
const SLANEY_LOGSTEP = Math.log(6.4) / 27;

/** Frequency (Hz) to mel. HTK: 2595·log10(1 + f/700) (the paper's formula). */
export function hzToMel(f: number, scale: MelScale): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + f / 700);
  if (f < SLANEY_MIN_LOG_HZ) return f / SLANEY_F_SP;
  return SLANEY_MIN_LOG_MEL + Math.log(f / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
}

/** Mel to frequency (Hz), the inverse of hzToMel. */
export function melToHz(m: number, scale: MelScale): number {
  if (scale === 'htk') return 700 * (Math.pow(10, m / 2595) - 1);
  if (m < SLANEY_MIN_LOG_MEL) return m * SLANEY_F_SP;
  return SLANEY_MIN_LOG_HZ * Math.exp(SLANEY_LOGSTEP * (m - SLANEY_MIN_LOG_MEL));
}

export interface MelFilterbankOptions {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fMin: number;
  fMax: number;
  scale: MelScale;
  norm: MelNorm;
}

/**
 * A filterbank stored sparsely: filter m has non-zero weights only on bins
 * start[m] .. start[m] + weights[m].length - 1, so applying it costs the filters' widths, not
 * nMels × nBins.
 */
export interface MelFilterbank {
  nMels: number;
  nBins: number;
  /** Centre frequencies (Hz) of the filters, length nMels. */
  centers: Float64Array;
  /** Edge frequencies (Hz): filter m spans edges[m] .. edges[m + 2]; length nMels + 2. */
  edges: Float64Array;
  start: Int32Array;
  weights: Float64Array[];
}

export function melFilterbank(o: MelFilterbankOptions): MelFilterbank {
  const nBins = Math.floor(o.nFft / 2) + 1;
  const mMin = hzToMel(o.fMin, o.scale);
  const mMax = hzToMel(o.fMax, o.scale);
  const edges = new Float64Array(o.nMels + 2);
  for (let i = 0; i < edges.length; i++) edges[i] = melToHz(mMin + ((mMax - mMin) * i) / (o.nMels + 1), o.scale);
  const binHz = (k: number): number => (k * o.sampleRate) / 2 / (nBins - 1);
  const start = new Int32Array(o.nMels);
  const weights: Float64Array[] = [];
  for (let m = 0; m < o.nMels; m++) {
    const lo = edges[m]!,
      mid = edges[m + 1]!,
      hi = edges[m + 2]!;
    // Area normalisation (librosa/torchaudio norm="slaney"): 2 / bandwidth, so each filter
    // integrates to about the same energy whatever its width.
    const gain = o.norm === 'slaney' ? 2 / (hi - lo) : 1;
    const w: number[] = [];
    let first = -1;
    for (let k = 0; k < nBins; k++) {
      const f = binHz(k);
      const up = (f - lo) / (mid - lo);
      const down = (hi - f) / (hi - mid);
      const v = Math.max(0, Math.min(up, down));
      if (v > 0) {
        // A triangle has no interior zeros, so the non-zero bins are contiguous.
        if (first < 0) first = k;
        w.push(v * gain);
      }
    }
    start[m] = first < 0 ? 0 : first;
    weights.push(Float64Array.from(w));
  }
  const centers = edges.slice(1, o.nMels + 1);
  return { nMels: o.nMels, nBins, centers, edges, start, weights };
}

/** out[m] = Σ_k fb[m][k]·power[k] over each filter's non-zero bins. */
export function applyFilterbank(fb: MelFilterbank, power: ArrayLike<number>, out: Float64Array): void {
  for (let m = 0; m < fb.nMels; m++) {
    const w = fb.weights[m]!;
    const s = fb.start[m]!;
    let acc = 0;
    for (let j = 0; j < w.length; j++) acc += w[j]! * power[s + j]!;
    out[m] = acc;
  }
}
