import type { DatasetIndex } from './dcase.js';

export interface IdSummary {
  machineId: string;
  classIndex: number;
  train: number;
  testNormal: number;
  testAnomaly: number;
}

export interface TypeSummary {
  type: string;
  ids: IdSummary[];
  train: number;
  testNormal: number;
  testAnomaly: number;
}

/** What `exp data check` prints: per type and ID, clip counts per split and label. */
export interface DatasetSummary {
  root: string;
  classes: number;
  types: TypeSummary[];
  total: { train: number; testNormal: number; testAnomaly: number };
}

export function summarize(index: DatasetIndex): DatasetSummary {
  const types: TypeSummary[] = index.types.map((type) => {
    const ids: IdSummary[] = index.classes
      .filter((c) => c.type === type)
      .map((c) => ({ machineId: c.machineId, classIndex: c.index, train: 0, testNormal: 0, testAnomaly: 0 }));
    return { type, ids, train: 0, testNormal: 0, testAnomaly: 0 };
  });
  const byType = new Map(types.map((t) => [t.type, t]));
  const total = { train: 0, testNormal: 0, testAnomaly: 0 };
  for (const clip of index.clips) {
    const t = byType.get(clip.type);
    const id = t?.ids.find((i) => i.machineId === clip.machineId);
    if (!t || !id) continue;
    const field = clip.split === 'train' ? 'train' : clip.label === 1 ? 'testAnomaly' : 'testNormal';
    id[field]++;
    t[field]++;
    total[field]++;
  }
  return { root: index.root, classes: index.classes.length, types, total };
}

/** A plain-text table for people. */
export function formatSummary(s: DatasetSummary): string {
  const rows: string[][] = [['type', 'id', 'class', 'train', 'test normal', 'test anomaly']];
  for (const t of s.types) {
    for (const id of t.ids)
      rows.push([
        t.type,
        id.machineId,
        String(id.classIndex),
        String(id.train),
        String(id.testNormal),
        String(id.testAnomaly),
      ]);
  }
  rows.push([
    'total',
    `${s.types.length} types`,
    `${s.classes} classes`,
    String(s.total.train),
    String(s.total.testNormal),
    String(s.total.testAnomaly),
  ]);
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, j) => (j < 2 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!)))
      .join('  ')
      .trimEnd(),
  );
  return [`dataset ${s.root}`, ...lines].join('\n');
}
