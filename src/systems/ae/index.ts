import type { SystemDefinition } from '../types.js';
import { LogMelSystem } from '../logmel-system.js';
import { clipGeometry } from '../../registry/container.js';
import { UserError } from '../../util/errors.js';
import { AutoEncoder } from './ae.js';

/** `system: ae`: one dense autoencoder per machine type (the DCASE 2020 Task 2 baseline). */
export const aeSystem: SystemDefinition = {
  perType: () => true,
  paperRow: () => 'ae',
  configKeys: ['features.logmel', 'ae'],
  check: (config) => {
    const { frames } = clipGeometry(config);
    if (config.ae!.context > frames) throw new UserError(`ae.context: ${config.ae!.context} frames per vector, but data.seconds ${config.data.seconds} gives ${frames} frames per clip`);
  },
  build: ({ config, prefix }) => {
    const clip = clipGeometry(config);
    return new LogMelSystem(new AutoEncoder(config.ae!, clip.nMels, `${prefix}ae`, config.seed), clip);
  },
};
