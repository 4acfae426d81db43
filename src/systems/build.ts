import type { ExperimentConfig } from '../config/schema.js';
import type { Parts } from '../registry/catalog.js';
import { PerTypeSystem, classesByType } from './per-type.js';
import type { AsdSystem, SystemClass, SystemDefinition } from './types.js';
import { SHARED_CONFIG_KEYS, systemName } from './config-keys.js';

export { DEFAULT_SYSTEM, SHARED_CONFIG_KEYS, systemName, underKeys } from './config-keys.js';

/** The registered definition `system` names (an unknown name is a user error naming the key). */
export function systemDefinition(config: ExperimentConfig, parts: Parts): SystemDefinition {
  return parts.systems.get(systemName(config), 'system');
}

/**
 * Checks every registry name and setting of a config without building any weights, so a
 * misspelt name is a user error before a run is created in the store (not a failed run left
 * behind). The system checks its own parts.
 */
export function checkSystem(config: ExperimentConfig, parts: Parts): void {
  systemDefinition(config, parts).check(config, parts);
}

/**
 * The dotted key prefixes of the config that its system reads (SHARED_CONFIG_KEYS and the
 * system's own configKeys), or null when that is not known: a system that does not declare them,
 * or one that is not registered here (a stored run of a plug-in whose file is gone).
 */
export function usedConfigKeys(config: ExperimentConfig, parts: Parts): string[] | null {
  const def = parts.systems.has(systemName(config)) ? systemDefinition(config, parts) : null;
  return def?.configKeys ? [...SHARED_CONFIG_KEYS, ...def.configKeys] : null;
}

/**
 * Builds the configured system for the data's classes from the run's parts: one model, or one
 * per machine type (the definition says which) wrapped so the trainer sees a single system
 * either way. The definition is looked up and checked once.
 */
export function buildSystem(config: ExperimentConfig, classes: readonly SystemClass[], parts: Parts): AsdSystem {
  const def = systemDefinition(config, parts);
  def.check(config, parts);
  if (!def.perType(config)) return def.build({ config, classes, prefix: '', parts });
  const built: Array<{ type: string; classes: number[]; system: AsdSystem }> = [];
  try {
    for (const { type, classes: idx } of classesByType(classes)) {
      built.push({
        type,
        classes: idx,
        system: def.build({ config, classes: idx.map((i) => classes[i]!), prefix: `${type}/`, parts }),
      });
    }
  } catch (e) {
    for (const p of built) p.system.dispose();
    throw e;
  }
  return new PerTypeSystem(built, classes);
}
