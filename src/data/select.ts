import type { Clip, DatasetIndex } from './dcase.js';
import { mulberry32, seedFrom } from '../random/index.js';

/** Fisher-Yates with our own seeded generator, so a subset is the same on every machine. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  const rand = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function groupBy(clips: readonly Clip[], key: (c: Clip) => string): Map<string, Clip[]> {
  const m = new Map<string, Clip[]>();
  for (const c of clips) {
    const k = key(c);
    const list = m.get(k);
    if (list) list.push(c);
    else m.set(k, [c]);
  }
  return m;
}

/**
 * Training clips (normal, split train). With `maxClipsPerId` each machine ID keeps a random
 * subset of that size, chosen by `seed` (data.maxClipsPerId, for quick runs). Order: by class,
 * then by file name, so the result does not depend on directory listing order.
 */
export function selectTrainClips(
  index: DatasetIndex,
  opts: { maxClipsPerId?: number | null; seed?: number } = {},
): Clip[] {
  const train = index.clips.filter((c) => c.split === 'train');
  const cap = opts.maxClipsPerId ?? null;
  const out: Clip[] = [];
  for (const [k, group] of groupBy(train, (c) => String(c.classIndex))) {
    const keep =
      cap === null || group.length <= cap ? group : shuffled(group, seedFrom(opts.seed ?? 0, 'train', k)).slice(0, cap);
    out.push(...keep);
  }
  return sortClips(out);
}

/**
 * Test clips. With `maxPerId` each machine ID keeps at most that many clips of each label
 * (data.maxTestClipsPerId), chosen by `seed`, so every ID still has both labels for its AUC.
 */
export function selectTestClips(index: DatasetIndex, opts: { maxPerId?: number | null; seed?: number } = {}): Clip[] {
  const test = index.clips.filter((c) => c.split === 'test');
  const cap = opts.maxPerId ?? null;
  const out: Clip[] = [];
  for (const [k, group] of groupBy(test, (c) => `${c.classIndex}/${c.label}`)) {
    const keep =
      cap === null || group.length <= cap ? group : shuffled(group, seedFrom(opts.seed ?? 0, 'test', k)).slice(0, cap);
    out.push(...keep);
  }
  return sortClips(out);
}

function sortClips(clips: Clip[]): Clip[] {
  return clips.sort(
    (a, b) => a.classIndex - b.classIndex || a.label - b.label || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
}

/**
 * Holds out `fraction` of the training clips of each machine ID as a validation set (train.valSplit,
 * the references' checkpoint selection), drawn by `seed`; an ID with a single clip keeps it for
 * training. Never touches test clips.
 */
export function splitValidation(
  train: readonly Clip[],
  fraction: number,
  seed: number,
): { train: Clip[]; val: Clip[] } {
  const rand = mulberry32(seedFrom(seed, 'val-split'));
  const out: { train: Clip[]; val: Clip[] } = { train: [], val: [] };
  for (const group of groupBy(train, (c) => String(c.classIndex)).values()) {
    const order = group
      .map((c) => ({ c, r: rand() }))
      .sort((a, b) => a.r - b.r)
      .map((x) => x.c);
    const nVal = group.length >= 2 ? Math.max(1, Math.round(fraction * group.length)) : 0;
    out.val.push(...order.slice(0, nVal));
    out.train.push(...order.slice(nVal));
  }
  return out;
}
