import type { SystemDefinition } from '../types.js';
import { BUILTIN_CONFIG_KEYS } from '../config-keys.js';
import { AeConfig, aeSection } from './config.js';
import { LogMelSystem } from '../logmel-system.js';
import { clipGeometry } from '../../model/clip.js';
import { UserError } from '../../util/errors.js';
import { AutoEncoder } from './ae.js';

/** `system: ae`: one dense autoencoder per machine type (the DCASE 2020 Task 2 baseline). */
export const aeSystem: SystemDefinition = {
  schema: AeConfig,
  perType: () => true,
  paperRow: () => 'ae',
  configKeys: BUILTIN_CONFIG_KEYS.ae,
  check: (config) => {
    const { frames } = clipGeometry(config);
    if (aeSection(config).context > frames)
      throw new UserError(
        `ae.context: ${aeSection(config).context} frames per vector, but data.seconds ${config.data.seconds} gives ${frames} frames per clip`,
      );
  },
  build: ({ config, prefix }) => {
    const clip = clipGeometry(config);
    return new LogMelSystem(new AutoEncoder(aeSection(config), clip.nMels, `${prefix}ae`, config.seed), clip);
  },
};
