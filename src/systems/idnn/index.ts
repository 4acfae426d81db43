import type { SystemDefinition } from '../types.js';
import { BUILTIN_CONFIG_KEYS } from '../config-keys.js';
import { IdnnConfig, idnnSection } from './config.js';
import { LogMelSystem } from '../logmel-system.js';
import { clipGeometry } from '../../model/clip.js';
import { UserError } from '../../util/errors.js';
import { InterpolationDnn } from './idnn.js';

/** `system: idnn`: one interpolation DNN per machine type (Suefusa et al., ICASSP 2020). */
export const idnnSystem: SystemDefinition = {
  schema: IdnnConfig,
  perType: () => true,
  paperRow: () => 'idnn',
  configKeys: BUILTIN_CONFIG_KEYS.idnn,
  check: (config) => {
    const { frames } = clipGeometry(config);
    if (idnnSection(config).context > frames)
      throw new UserError(
        `idnn.context: ${idnnSection(config).context} frames per vector, but data.seconds ${config.data.seconds} gives ${frames} frames per clip`,
      );
  },
  build: ({ config, prefix }) => {
    const clip = clipGeometry(config);
    return new LogMelSystem(new InterpolationDnn(idnnSection(config), clip.nMels, `${prefix}idnn`, config.seed), clip);
  },
};
