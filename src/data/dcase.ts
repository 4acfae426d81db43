import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';

/** One clip of a DCASE 2020 Task 2 root (paper §2.4). */
export interface Clip {
  path: string;
  type: string;
  /** 'id_00', as in the file name. */
  machineId: string;
  /** Index of (type, machineId) in DatasetIndex.classes: the ID-classification label. */
  classIndex: number;
  split: 'train' | 'test';
  /** 1 = anomaly. */
  label: 0 | 1;
}

export interface DatasetClass {
  type: string;
  machineId: string;
  index: number;
}

export interface DatasetIndex {
  root: string;
  types: string[];
  /** Every (type, machine ID) with normal training clips, sorted by type then ID (41 on DCASE 2020). */
  classes: DatasetClass[];
  clips: Clip[];
}

export interface IndexOptions {
  /** Machine types to keep; null or absent = every type directory found. */
  types?: string[] | null;
}

const CLIP_NAME = /^(normal|anomaly)_(id_\d+)_(\d+)\.wav$/;
const SPLITS = ['train', 'test'] as const;

/** Parses `normal_id_00_00000012.wav`; null when the name does not follow the DCASE pattern. */
export function parseClipName(name: string): { label: 0 | 1; machineId: string } | null {
  const m = CLIP_NAME.exec(name);
  if (!m) return null;
  return { label: m[1] === 'anomaly' ? 1 : 0, machineId: m[2] as string };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Indexes `<root>/<type>/train|test/{normal,anomaly}_id_XX_NNNNNNNN.wav` (paper §2.4). Machine
 * IDs of all types share one class index space, as the paper's single model does (41 classes).
 * Anything that would make training or scoring wrong is a UserError saying what and where.
 */
export function indexDataset(root: string, opts: IndexOptions = {}): DatasetIndex {
  if (!isDir(root)) throw new UserError(`dataset root ${root} does not exist or is not a directory`);
  const found = readdirSync(root)
    .filter((name) => !name.startsWith('.') && isDir(join(root, name)))
    .sort(byName);
  let types = found;
  if (opts.types != null) {
    const missing = opts.types.filter((t) => !found.includes(t));
    if (missing.length > 0) {
      throw new UserError(
        `machine type ${missing.map((t) => JSON.stringify(t)).join(', ')} not found under ${root}; found: ${found.join(', ') || '(no type directories)'}`,
      );
    }
    types = [...new Set(opts.types)].sort(byName);
  }
  if (types.length === 0) {
    throw new UserError(
      `dataset root ${root} holds no machine type directories; expected <root>/<type>/train/normal_id_XX_NNNNNNNN.wav`,
    );
  }

  interface Raw {
    path: string;
    type: string;
    machineId: string;
    split: 'train' | 'test';
    label: 0 | 1;
  }
  const raw: Raw[] = [];
  for (const type of types) {
    const trainDir = join(root, type, 'train');
    if (!isDir(trainDir)) throw new UserError(`${join(root, type)} has no train directory; expected ${trainDir}`);
    for (const split of SPLITS) {
      const dir = join(root, type, split);
      if (!isDir(dir)) continue; // a type without test clips can still be trained on
      for (const name of readdirSync(dir).sort(byName)) {
        if (name.startsWith('.')) continue;
        const parsed = parseClipName(name);
        if (!parsed) {
          if (!name.toLowerCase().endsWith('.wav')) continue; // READMEs and the like
          throw new UserError(
            `cannot parse the clip name ${join(dir, name)}; expected normal_id_XX_NNNNNNNN.wav or anomaly_id_XX_NNNNNNNN.wav`,
          );
        }
        if (split === 'train' && parsed.label === 1) {
          throw new UserError(
            `${join(dir, name)} is an anomalous clip in a train directory; training uses normal clips only (DCASE 2020 Task 2)`,
          );
        }
        raw.push({ path: join(dir, name), type, split, ...parsed });
      }
    }
  }

  const key = (type: string, id: string): string => `${type}/${id}`;
  const trainIds = new Set(raw.filter((c) => c.split === 'train').map((c) => key(c.type, c.machineId)));
  for (const type of types) {
    if (![...trainIds].some((k) => k.startsWith(`${type}/`))) {
      throw new UserError(
        `${join(root, type, 'train')} holds no normal clips; expected normal_id_XX_NNNNNNNN.wav files`,
      );
    }
  }
  for (const c of raw) {
    if (c.split === 'test' && !trainIds.has(key(c.type, c.machineId))) {
      throw new UserError(
        `${c.type} ${c.machineId} has test clips (e.g. ${c.path}) but no normal training clips in ${join(root, c.type, 'train')}`,
      );
    }
  }
  const testIds = new Map<string, { normal: number; anomaly: number }>();
  for (const c of raw) {
    if (c.split !== 'test') continue;
    const k = key(c.type, c.machineId);
    const n = testIds.get(k) ?? { normal: 0, anomaly: 0 };
    if (c.label === 1) n.anomaly++;
    else n.normal++;
    testIds.set(k, n);
  }
  for (const [k, n] of testIds) {
    // AUC needs both labels for every ID (paper §3.1 scores per ID).
    if (n.normal === 0)
      throw new UserError(
        `${k.replace('/', ' ')} has anomalous test clips but no normal test clips in ${join(root, k.split('/')[0] as string, 'test')}`,
      );
  }

  const classes: DatasetClass[] = [...trainIds]
    .map((k) => {
      const [type, machineId] = k.split('/') as [string, string];
      return { type, machineId };
    })
    .sort((a, b) => byName(a.type, b.type) || byName(a.machineId, b.machineId))
    .map((c, index) => ({ ...c, index }));
  const classOf = new Map(classes.map((c) => [key(c.type, c.machineId), c.index]));
  const clips: Clip[] = raw.map((c) => ({
    path: c.path,
    type: c.type,
    machineId: c.machineId,
    classIndex: classOf.get(key(c.type, c.machineId)) as number,
    split: c.split,
    label: c.label,
  }));
  return { root, types, classes, clips };
}
