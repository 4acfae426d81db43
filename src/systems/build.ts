import type { ContainerModule } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import { buildContainer } from '../registry/container.js';
import { SystemRegistry } from '../registry/tokens.js';
import { PerTypeSystem, classesByType } from './per-type.js';
import type { AsdSystem, SystemClass, SystemDefinition } from './types.js';

/** The system of a config without a `system` key: the paper's FGASpecNet family. */
export const DEFAULT_SYSTEM = 'classifier';

export function systemName(config: ExperimentConfig): string {
  return config.system ?? DEFAULT_SYSTEM;
}

/** The registered definition `system` names (an unknown name is a user error naming the key). */
export function systemDefinition(config: ExperimentConfig, extraModules: readonly ContainerModule[] = []): SystemDefinition {
  const registry = buildContainer(config, { numClasses: 1, extraModules }).get<SystemRegistry>(SystemRegistry);
  return registry.get(systemName(config), 'system');
}

/** Config keys the trainer reads for every system: the run, its data and its optimisation, pAUC's p. */
export const SHARED_CONFIG_KEYS: readonly string[] = ['name', 'seed', 'system', 'data', 'train', 'eval.maxFpr'];

/**
 * The dotted key prefixes of the config that its system reads (SHARED_CONFIG_KEYS and the
 * system's own configKeys), or null when that is not known: a system that does not declare them,
 * or one that is not registered here (a stored run of a plug-in).
 */
export function usedConfigKeys(config: ExperimentConfig, extraModules: readonly ContainerModule[] = []): string[] | null {
  let def: SystemDefinition;
  try {
    def = systemDefinition(config, extraModules);
  } catch {
    return null;
  }
  return def.configKeys ? [...SHARED_CONFIG_KEYS, ...def.configKeys] : null;
}

/** Whether dotted `key` lies under one of `prefixes`. */
export function underKeys(key: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => key === p || key.startsWith(`${p}.`));
}

/**
 * Builds the configured system for the data's classes: one model, or one per machine type (the
 * definition says which) wrapped so the trainer sees a single system either way.
 */
export function buildSystem(config: ExperimentConfig, classes: readonly SystemClass[], extraModules: readonly ContainerModule[] = []): AsdSystem {
  const def = systemDefinition(config, extraModules);
  def.check(config, extraModules);
  if (!def.perType(config)) return def.build({ config, classes, prefix: '', extraModules });
  const parts: Array<{ type: string; classes: number[]; system: AsdSystem }> = [];
  try {
    for (const { type, classes: idx } of classesByType(classes)) {
      parts.push({ type, classes: idx, system: def.build({ config, classes: idx.map((i) => classes[i]!), prefix: `${type}/`, extraModules }) });
    }
  } catch (e) {
    for (const p of parts) p.system.dispose();
    throw e;
  }
  return new PerTypeSystem(parts, classes);
}
