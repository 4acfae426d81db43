import type { ExperimentConfig } from '../config/schema.js';
import { buildSystem, systemDefinition } from '../systems/build.js';
import { PerTypeSystem } from '../systems/per-type.js';
import type { SystemClass } from '../systems/types.js';

/** Machine IDs of DCASE 2020 Task 2 (§2.4): the class count of the paper's head. */
export const DCASE_CLASSES = 41;

/** The 41 (type, ID) classes of DCASE 2020 Task 2 dev + additional sets: 7 IDs per type, 6 for ToyConveyor (§2.4). */
export function dcaseClasses(): SystemClass[] {
  const types: Array<[string, number]> = [['fan', 7], ['pump', 7], ['slider', 7], ['valve', 7], ['ToyCar', 7], ['ToyConveyor', 6]];
  return types.flatMap(([type, n]) => Array.from({ length: n }, (_, i) => ({ type, machineId: `id_${String(i).padStart(2, '0')}` })));
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
  /** Per-type systems: how many models (one per machine type) and their sum. */
  perType: { models: number; type: string; allModels: number } | null;
  /** The Table 2 row this config replays (null when none, e.g. an ablation variant). */
  row: string | null;
}

/**
 * Builds the configured system (weights only, nothing runs) for the DCASE 2020 classes (or
 * `classes` IDs of one type) and counts its trainable scalars.
 */
export function countParams(config: ExperimentConfig, classes = DCASE_CLASSES): ParamsReport {
  const list = classes === DCASE_CLASSES ? dcaseClasses() : Array.from({ length: classes }, (_, i) => ({ type: 'type', machineId: `id_${i}` }));
  const def = systemDefinition(config);
  const system = buildSystem(config, list);
  try {
    const all = system.paramsByModule();
    const perType = system instanceof PerTypeSystem ? list[0]!.type : null;
    const modules = perType === null ? all : Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith(`${perType}/`)));
    const total = Object.values(modules).reduce((a, b) => a + b, 0);
    const row = def.paperRow(config);
    const t5 = TABLE5.find((r) => r.key === row);
    const types = new Set(list.map((c) => c.type)).size;
    return {
      total,
      modules,
      loss: system.objectiveParams(),
      classes,
      input: { nMels: system.clip.nMels, frames: system.clip.frames, channels: system.inputChannels },
      paper: t5 ? { system: t5.system, params: t5.params, gap: total / t5.params - 1 } : null,
      perType: perType === null ? null : { models: types, type: perType, allModels: Object.values(all).reduce((a, b) => a + b, 0) },
      row,
    };
  } finally {
    system.dispose();
  }
}
