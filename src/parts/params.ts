import type { ExperimentConfig } from '../config/schema.js';
import type { Parts } from '../registry/catalog.js';
import { buildSystem, systemDefinition } from '../systems/build.js';
import { classesByType } from '../systems/per-type.js';
import type { SystemClass, SystemDefinition } from '../systems/types.js';
import { defaultCatalog } from './builtin.js';
import { DCASE_CLASSES } from '../paper/classes.js';

export { DCASE_CLASSES };

/** The 41 (type, ID) classes of DCASE 2020 Task 2 dev + additional sets: 7 IDs per type, 6 for ToyConveyor (§2.4). */
export function dcaseClasses(): SystemClass[] {
  const types: Array<[string, number]> = [
    ['fan', 7],
    ['pump', 7],
    ['slider', 7],
    ['valve', 7],
    ['ToyCar', 7],
    ['ToyConveyor', 6],
  ];
  return types.flatMap(([type, n]) =>
    Array.from({ length: n }, (_, i) => ({ type, machineId: `id_${String(i).padStart(2, '0')}` })),
  );
}

/**
 * Table 5 of the paper (trainable parameters), keyed by the Table 2 row a system declares
 * (`paperRow`). AE, the DCASE 2020 baseline, has no Table 5 entry. `branches` is the
 * classifier family's branch list (kept for scripts that matched on it).
 */
export const TABLE5: ReadonlyArray<{ system: string; key: string; branches: string | null; params: number }> = [
  { system: 'IDNN', key: 'idnn', branches: null, params: 46e3 },
  { system: 'MobileNetV2', key: 'mobilenetv2', branches: null, params: 1.1e6 },
  { system: 'Glow-Aff', key: 'glow-aff', branches: null, params: 30e6 },
  { system: 'STgram-MFN', key: 'stgram-mfn', branches: 'logmel,tgram', params: 1.1e6 },
  { system: 'TASTgram', key: 'tastgram', branches: 'logmel,tgram,tagram', params: 1.2e6 },
  { system: 'FGASpecNet', key: 'fgaspecnet', branches: 'logmel,tgram,tagram,fga-spec', params: 1.3e6 },
];

export interface ParamsReport {
  /** Trainable scalars of one model (for per-type systems: the first type's model, as Table 5 counts). */
  total: number;
  modules: Record<string, number>;
  /** Weights owned by losses (SoftTriple centres): trained, but not part of the model's count. */
  loss: Record<string, number>;
  classes: number;
  input: { nMels: number; frames: number; channels: number };
  paper: { system: string; params: number; gap: number } | null;
  /** Per-type systems: how many models (one per machine type, or per machine ID) and their sum. */
  perType: { models: number; type: string; allModels: number; per: 'machine type' | 'machine ID' } | null;
  /** The Table 2 row this config replays (null when none, e.g. an ablation variant). */
  row: string | null;
}

/**
 * Builds the configured system (weights only, nothing runs) for the DCASE 2020 classes (or
 * `classes` IDs of one type) from `parts` (the built-ins by default) and counts its trainable scalars.
 */
export function countParams(
  config: ExperimentConfig,
  classes = DCASE_CLASSES,
  parts: Parts = defaultCatalog(),
): ParamsReport {
  const list =
    classes === DCASE_CLASSES
      ? dcaseClasses()
      : Array.from({ length: classes }, (_, i) => ({ type: 'type', machineId: `id_${i}` }));
  const def = systemDefinition(config, parts);
  def.check(config, parts);
  const row = def.paperRow(config);
  const t5 = TABLE5.find((r) => r.key === row);
  const types = classesByType(list);
  // One model for all types, or (per-type systems) the first type's model, as Table 5 counts one;
  // a model per machine ID: the first ID's (all of them have its size).
  const perId = def.perType(config) && (def.modelPerId?.(config) ?? false);
  const first = def.perType(config) ? (perId ? { ...types[0]!, classes: [types[0]!.classes[0]!] } : types[0]!) : null;
  const system = first
    ? def.build({ config, classes: first.classes.map((i) => list[i]!), prefix: `${first.type}/`, parts })
    : buildSystem(config, list, parts);
  try {
    const modules = system.paramsByModule();
    const total = Object.values(modules).reduce((a, b) => a + b, 0);
    return {
      total,
      modules,
      loss: system.objectiveParams(),
      classes,
      input: { nMels: system.clip.nMels, frames: system.clip.frames, channels: system.inputChannels },
      paper: t5 ? { system: t5.system, params: t5.params, gap: total / t5.params - 1 } : null,
      perType: !first
        ? null
        : perId
          ? {
              models: list.length,
              type: `${first.type} ${list[first.classes[0]!]!.machineId}`,
              allModels: total * list.length,
              per: 'machine ID',
            }
          : {
              models: types.length,
              type: first.type,
              allModels: sumOverTypes(config, parts, def, types, list, first.classes.length, total),
              per: 'machine type',
            },
      row,
    };
  } finally {
    system.dispose();
  }
}

/**
 * Weights of all per-type models. Types with the same number of IDs have the same count, so one
 * model is built per distinct ID count (the 30 M flows are slow to build six times).
 */
function sumOverTypes(
  config: ExperimentConfig,
  parts: Parts,
  def: SystemDefinition,
  types: Array<{ type: string; classes: number[] }>,
  list: SystemClass[],
  firstCount: number,
  firstTotal: number,
): number {
  const bySize = new Map<number, number>([[firstCount, firstTotal]]);
  let sum = 0;
  for (const t of types) {
    if (!bySize.has(t.classes.length)) {
      const s = def.build({ config, classes: t.classes.map((i) => list[i]!), prefix: `${t.type}/`, parts });
      bySize.set(
        t.classes.length,
        Object.values(s.paramsByModule()).reduce((a, b) => a + b, 0),
      );
      s.dispose();
    }
    sum += bySize.get(t.classes.length)!;
  }
  return sum;
}
