import type { SystemDefinition } from '../types.js';
import { LogMelSystem } from '../logmel-system.js';
import { clipGeometry } from '../../registry/container.js';
import { AutoEncoder } from './ae.js';

/** `system: ae`: one dense autoencoder per machine type (the DCASE 2020 Task 2 baseline). */
export const aeSystem: SystemDefinition = {
  perType: () => true,
  paperRow: () => 'ae',
  check: () => undefined,
  build: ({ config, prefix }) => {
    const clip = clipGeometry(config);
    return new LogMelSystem(new AutoEncoder(config.ae!, clip.nMels, `${prefix}ae`, config.seed), clip);
  },
};
