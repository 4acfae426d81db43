import { configHash } from './hash.js';
import type { ExperimentConfig } from './schema.js';

/**
 * A run's identity in the store and in sweeps: the config hash, leaving out `data.synthVersion`
 * where it changes nothing that was hashed before it existed (version 1, or a real dataset root,
 * where no generator runs). So runs stored before the key keep their hash and sweeps resume them.
 */
export function experimentHash(config: ExperimentConfig): string {
  const data = config.data as Partial<ExperimentConfig['data']> | undefined;
  if (!data) return configHash(config);
  const generated = data.root === null || data.root === undefined;
  if (generated && data.synthVersion !== undefined && data.synthVersion !== 1) return configHash(config);
  const { synthVersion: _v, ...rest } = data;
  return configHash({ ...config, data: rest });
}
