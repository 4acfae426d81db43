import type { SystemDefinition } from '../types.js';
import { LogMelSystem } from '../logmel-system.js';
import { clipGeometry } from '../../registry/container.js';
import { InterpolationDnn } from './idnn.js';

/** `system: idnn`: one interpolation DNN per machine type (Suefusa et al., ICASSP 2020). */
export const idnnSystem: SystemDefinition = {
  perType: () => true,
  paperRow: () => 'idnn',
  check: () => undefined,
  build: ({ config, prefix }) => {
    const clip = clipGeometry(config);
    return new LogMelSystem(new InterpolationDnn(config.idnn!, clip.nMels, `${prefix}idnn`, config.seed), clip);
  },
};
