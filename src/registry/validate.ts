import type { ContainerModule } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import { systemDefinition } from '../systems/build.js';

/**
 * Checks every registry name of a config without building any weights, so a misspelt name is a
 * user error before a run is created in the store (not a failed run left behind). The system
 * checks its own parts.
 */
export function checkRegistryNames(config: ExperimentConfig, extraModules: readonly ContainerModule[] = []): void {
  systemDefinition(config, extraModules).check(config, extraModules);
}
