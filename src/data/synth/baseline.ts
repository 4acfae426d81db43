import { indexDataset, type Clip } from '../dcase.js';
import { readWav } from '../../audio/wav.js';

/**
 * A deliberately simple anomaly detector used to check that a dataset (the synthetic set in
 * particular) is a real but not trivial detection problem: log band energies (64 log-spaced
 * bands from a 1024-point FFT), modelled per machine ID from its normal training clips with a
 * diagonal Gaussian. Two scores: the distance of the clip's mean spectrum ("mean"), and the mean
 * of the 10 % most unusual frames ("frames", which catches short events). Not part of the paper.
 */

const N_FFT = 1024;
const HOP = 512;
const BANDS = 64;

/** In-place iterative radix-2 FFT. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] as number, re[i] as number];
      [im[i], im[j]] = [im[j] as number, im[i] as number];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k),
          wi = Math.sin(ang * k);
        const a = i + k,
          b = a + len / 2;
        const xr = (re[b] as number) * wr - (im[b] as number) * wi;
        const xi = (re[b] as number) * wi + (im[b] as number) * wr;
        re[b] = (re[a] as number) - xr;
        im[b] = (im[a] as number) - xi;
        re[a] = (re[a] as number) + xr;
        im[a] = (im[a] as number) + xi;
      }
    }
  }
}

/** Frames x bands matrix of log band energies. */
export function logBands(x: Float32Array, sr: number): Float64Array[] {
  const edges: number[] = [];
  const fLo = 40,
    fHi = sr / 2;
  for (let b = 0; b <= BANDS; b++) edges.push(Math.round(((fLo * (fHi / fLo) ** (b / BANDS)) / sr) * N_FFT));
  const win = Float64Array.from({ length: N_FFT }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT));
  const frames: Float64Array[] = [];
  const re = new Float64Array(N_FFT),
    im = new Float64Array(N_FFT);
  for (let start = 0; start + N_FFT <= x.length; start += HOP) {
    for (let i = 0; i < N_FFT; i++) {
      re[i] = (x[start + i] as number) * (win[i] as number);
      im[i] = 0;
    }
    fft(re, im);
    const out = new Float64Array(BANDS);
    for (let b = 0; b < BANDS; b++) {
      let e = 0;
      const lo = edges[b] as number,
        hi = Math.max(lo + 1, edges[b + 1] as number);
      for (let k = lo; k < hi && k <= N_FFT / 2; k++) e += (re[k] as number) ** 2 + (im[k] as number) ** 2;
      out[b] = Math.log(e / (hi - lo) + 1e-12);
    }
    frames.push(out);
  }
  return frames;
}

/** Mann-Whitney AUC with ties counted half (label 1 = anomaly). */
export function simpleAuc(labels: number[], scores: number[]): number {
  let pos = 0,
    wins = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    pos++;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] === 1) continue;
      wins +=
        (scores[i] as number) > (scores[j] as number) ? 1 : (scores[i] as number) === (scores[j] as number) ? 0.5 : 0;
    }
  }
  const neg = labels.filter((l) => l !== 1).length;
  return wins / (pos * neg);
}

interface Stats {
  mean: Float64Array;
  std: Float64Array;
}
function stats(rows: Float64Array[]): Stats {
  const mean = new Float64Array(BANDS),
    sq = new Float64Array(BANDS);
  for (const r of rows)
    for (let b = 0; b < BANDS; b++) {
      mean[b] += r[b] as number;
      sq[b] += (r[b] as number) ** 2;
    }
  const std = new Float64Array(BANDS);
  for (let b = 0; b < BANDS; b++) {
    mean[b] = (mean[b] as number) / rows.length;
    std[b] = Math.sqrt(Math.max((sq[b] as number) / rows.length - (mean[b] as number) ** 2, 0)) + 1e-3;
  }
  return { mean, std };
}
function dist(r: Float64Array, s: Stats): number {
  let d = 0;
  for (let b = 0; b < BANDS; b++) d += (((r[b] as number) - (s.mean[b] as number)) / (s.std[b] as number)) ** 2;
  return d / BANDS;
}
function meanRow(frames: Float64Array[]): Float64Array {
  return stats(frames).mean;
}

export interface BaselineResult {
  types: Record<string, { mean: number; frames: number; idAccuracy: number }>;
  /** Per test clip: both scores, for per-fault analysis. */
  scores: Array<{ path: string; type: string; classIndex: number; label: number; mean: number; frames: number }>;
}

/** Runs the baseline on a dataset root; AUC per type = mean over its IDs (paper §3.1 style). */
export function runBaseline(root: string, sr = 16000): BaselineResult {
  const index = indexDataset(root);
  const feats = new Map<Clip, Float64Array[]>();
  for (const c of index.clips) feats.set(c, logBands(readWav(c.path, sr), sr));
  const result: BaselineResult = { types: {}, scores: [] };
  for (const type of index.types) {
    const classes = index.classes.filter((k) => k.type === type);
    const models = new Map<number, { clip: Stats; frame: Stats }>();
    for (const k of classes) {
      const train = index.clips.filter((c) => c.split === 'train' && c.classIndex === k.index);
      models.set(k.index, {
        clip: stats(train.map((c) => meanRow(feats.get(c) as Float64Array[]))),
        frame: stats(train.flatMap((c) => feats.get(c) as Float64Array[])),
      });
    }
    const aucMean: number[] = [],
      aucFrames: number[] = [];
    let correct = 0,
      total = 0;
    for (const k of classes) {
      const test = index.clips.filter((c) => c.split === 'test' && c.classIndex === k.index);
      if (test.length === 0) continue;
      const m = models.get(k.index)!;
      const labels = test.map((c) => c.label);
      const sMean = test.map((c) => dist(meanRow(feats.get(c)!), m.clip));
      const sFrames = test.map((c) => {
        const d = feats
          .get(c)!
          .map((f) => dist(f, m.frame))
          .sort((a, b) => b - a);
        const top = d.slice(0, Math.max(1, Math.ceil(d.length / 10)));
        return top.reduce((a, b) => a + b, 0) / top.length;
      });
      aucMean.push(simpleAuc(labels, sMean));
      aucFrames.push(simpleAuc(labels, sFrames));
      test.forEach((c, i) =>
        result.scores.push({
          path: c.path,
          type,
          classIndex: c.classIndex,
          label: c.label,
          mean: sMean[i] as number,
          frames: sFrames[i] as number,
        }),
      );
      // Nearest ID centroid among the type's IDs, on normal test clips: how separable IDs are.
      for (const c of test.filter((t) => t.label === 0)) {
        const r = meanRow(feats.get(c)!);
        let best = -1,
          bestD = Infinity;
        for (const o of classes) {
          const d = dist(r, models.get(o.index)!.clip);
          if (d < bestD) {
            bestD = d;
            best = o.index;
          }
        }
        total++;
        if (best === k.index) correct++;
      }
    }
    const avg = (v: number[]): number => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
    result.types[type] = { mean: avg(aucMean), frames: avg(aucFrames), idAccuracy: total ? correct / total : NaN };
  }
  return result;
}
