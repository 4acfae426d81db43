import { auc } from '../../metrics/roc.js';
import type { LoadedManifest } from './manifest.js';
import { manifestKey } from './manifest.js';

export interface ScoredClip {
  path: string;
  type: string;
  id: string;
  label: 0 | 1;
  score: number;
}

/**
 * AUC per (machine type, fault kind) on the built-in set: for each machine ID, its normal test
 * clips against its anomalous clips of that kind, then the mean over the type's IDs that have the
 * kind (the tables' per-ID aggregation, restricted to one kind). Tells which faults a detector
 * finds and which it misses. Clips not in the manifest are ignored.
 */
export function faultKindAuc(clips: readonly ScoredClip[], manifest: LoadedManifest): Map<string, Map<string, number>> {
  const byId = new Map<string, { type: string; normals: number[]; kinds: Map<string, number[]> }>();
  for (const c of clips) {
    if (!Number.isFinite(c.score)) continue;
    const g = byId.get(`${c.type}\u0000${c.id}`) ?? { type: c.type, normals: [], kinds: new Map<string, number[]>() };
    byId.set(`${c.type}\u0000${c.id}`, g);
    if (c.label === 0) g.normals.push(c.score);
    else {
      const kind = manifest.clips.get(manifestKey(manifest.file, c.path))?.fault;
      if (kind) g.kinds.set(kind, [...(g.kinds.get(kind) ?? []), c.score]);
    }
  }
  const perKind = new Map<string, Map<string, number[]>>();
  for (const g of byId.values()) {
    if (g.normals.length === 0) continue;
    for (const [kind, scores] of g.kinds) {
      const labels = [...g.normals.map(() => 0), ...scores.map(() => 1)];
      const t = perKind.get(g.type) ?? new Map<string, number[]>();
      perKind.set(g.type, t.set(kind, [...(t.get(kind) ?? []), auc(labels, [...g.normals, ...scores])]));
    }
  }
  return new Map(
    [...perKind].map(([type, kinds]) => [
      type,
      new Map([...kinds].map(([k, xs]) => [k, xs.reduce((a, b) => a + b, 0) / xs.length])),
    ]),
  );
}
