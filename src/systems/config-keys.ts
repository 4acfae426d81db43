import type { ExperimentConfig } from '../config/schema.js';

/*
 * Which config keys a system reads, apart from the systems themselves (they import tfjs): `exp show`
 * lists only those keys of a stored run, and for a run without plug-ins it reads them here
 * without loading the model code. build.ts re-exports these; each built-in system's definition
 * takes its configKeys from BUILTIN_CONFIG_KEYS.
 */

/** The system of a config without a `system` key: the paper's FGASpecNet family. */
export const DEFAULT_SYSTEM = 'classifier';

export function systemName(config: ExperimentConfig): string {
  return config.system ?? DEFAULT_SYSTEM;
}

/** Config keys the trainer reads for every system: the run, its data and its optimisation, pAUC's p, its plug-ins. */
export const SHARED_CONFIG_KEYS: readonly string[] = [
  'name',
  'seed',
  'system',
  'data',
  'train',
  'eval.maxFpr',
  'plugins',
];

/**
 * The dotted key prefixes each built-in system reads besides SHARED_CONFIG_KEYS, by the name it
 * is registered under (systems/parts.ts).
 */
export const BUILTIN_CONFIG_KEYS = {
  /** The branch stack (and its log-Mel and FGA settings), the model, both losses, the margin at test time. */
  classifier: ['features', 'model', 'loss', 'eval.marginAtTest'],
  ae: ['features.logmel', 'ae'],
  idnn: ['features.logmel', 'idnn'],
  mobilenetv2: ['features.logmel', 'mobilenetv2'],
  'glow-aff': ['features.logmel', 'glow'],
} as const satisfies Record<string, readonly string[]>;

/**
 * usedConfigKeys (build.ts) for the built-in systems alone, without the catalog: the keys a config
 * of a built-in system reads, or null for a name that is not one.
 */
export function builtinUsedConfigKeys(config: ExperimentConfig): string[] | null {
  const name = systemName(config);
  return Object.hasOwn(BUILTIN_CONFIG_KEYS, name)
    ? [...SHARED_CONFIG_KEYS, ...BUILTIN_CONFIG_KEYS[name as keyof typeof BUILTIN_CONFIG_KEYS]]
    : null;
}

/** Whether dotted `key` lies under one of `prefixes`. */
export function underKeys(key: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => key === p || key.startsWith(`${p}.`));
}
