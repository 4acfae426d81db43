import { indexDataset, type Clip } from '../dcase.js';
import { loadClip } from '../load.js';
import { selectTestClips, selectTrainClips } from '../select.js';
import { logMel, type LogMelOptions } from '../../features/logmel.js';
import { auc } from '../../metrics/roc.js';

/**
 * The non-learned reference detector the synthetic set is calibrated against (not part of the
 * paper): a clip's mean log-Mel spectrum (dB, averaged over frames), scored by its Euclidean
 * distance to the centroid of its machine ID's training clips. What it catches is a change of
 * the long-term spectrum; what it misses (timing, modulation, short events, changes hidden by
 * varying background) is what a learned detector has to add.
 */

export interface CentroidOptions {
  /** Clip length loaded (cut or padded), seconds. */
  seconds: number;
  logmel: Partial<LogMelOptions> & { sampleRate: number };
  types?: string[] | null;
  maxClipsPerId?: number | null;
  maxTestClipsPerId?: number | null;
  seed?: number;
}

export interface CentroidResult {
  /** AUC per type: mean over its IDs (as the paper averages, §3.1). */
  types: Record<string, number>;
  average: number;
}

function meanSpectrum(c: Clip, o: CentroidOptions): Float64Array {
  const { shape, data } = logMel(loadClip(c.path, { sampleRate: o.logmel.sampleRate, seconds: o.seconds }), o.logmel);
  const [mels, frames] = shape;
  const out = new Float64Array(mels);
  for (let m = 0; m < mels; m++) {
    let s = 0;
    for (let t = 0; t < frames; t++) s += data[m * frames + t] as number;
    out[m] = s / frames;
  }
  return out;
}

function distance(a: Float64Array, b: Float64Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += ((a[i] as number) - (b[i] as number)) ** 2;
  return Math.sqrt(d);
}

export function centroidDetector(root: string, o: CentroidOptions): CentroidResult {
  const index = indexDataset(root, { types: o.types ?? null });
  const train = selectTrainClips(index, { maxClipsPerId: o.maxClipsPerId ?? null, seed: o.seed ?? 0 });
  const test = selectTestClips(index, { maxPerId: o.maxTestClipsPerId ?? null, seed: o.seed ?? 0 });
  const perType = new Map<string, number[]>();
  for (const k of index.classes) {
    const rows = train.filter((c) => c.classIndex === k.index).map((c) => meanSpectrum(c, o));
    const probe = test.filter((c) => c.classIndex === k.index);
    if (rows.length === 0 || !probe.some((c) => c.label === 1) || !probe.some((c) => c.label === 0)) continue;
    const centre = new Float64Array(rows[0]!.length);
    for (const r of rows) for (let i = 0; i < r.length; i++) centre[i] += (r[i] as number) / rows.length;
    const a = auc(
      probe.map((c) => c.label),
      probe.map((c) => distance(meanSpectrum(c, o), centre)),
    );
    perType.set(k.type, [...(perType.get(k.type) ?? []), a]);
  }
  const types = Object.fromEntries([...perType].map(([t, v]) => [t, v.reduce((x, y) => x + y, 0) / v.length]));
  const vals = Object.values(types);
  return { types, average: vals.reduce((x, y) => x + y, 0) / Math.max(1, vals.length) };
}
