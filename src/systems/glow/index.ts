import type { SystemDefinition } from '../types.js';
import { BUILTIN_CONFIG_KEYS } from '../config-keys.js';
import { GlowConfig, glowSection } from './config.js';
import { LogMelSystem } from '../logmel-system.js';
import { clipGeometry } from '../../model/clip.js';
import { windowCount } from '../frontends.js';
import { UserError } from '../../util/errors.js';
import { GlowDetector } from './detector.js';
import { PerIdGlowDetector } from './per-id.js';

/**
 * `system: glow-aff` (Dohi et al., ICASSP 2021), built per machine type: one Glow per machine ID
 * trained with the type's other IDs as outliers (`glow.training: per-id`), or one ID-conditioned
 * Glow per type (`id-conditioned`).
 */
export const glowAffSystem: SystemDefinition = {
  schema: GlowConfig,
  section: 'glow',
  perType: () => true,
  modelPerId: (config) => glowSection(config).training === 'per-id',
  paperRow: (config) => (glowSection(config).coupling === 'affine' ? 'glow-aff' : null),
  configKeys: BUILTIN_CONFIG_KEYS['glow-aff'],
  check: (config) => {
    const { frames, nMels } = clipGeometry(config);
    const g = glowSection(config);
    const unit = 2 ** g.levels;
    if (g.segment % unit !== 0)
      throw new UserError(
        `glow.segment: ${g.segment} frames is not a multiple of 2^glow.levels = ${unit} (each level halves the segment)`,
      );
    if (nMels % unit !== 0)
      throw new UserError(`features.logmel.nMels: ${nMels} is not a multiple of 2^glow.levels = ${unit}`);
    if (windowCount(frames, g.segment, g.hop) < 1)
      throw new UserError(
        `glow.segment: ${g.segment} frames, but data.seconds ${config.data.seconds} gives ${frames} frames per clip`,
      );
  },
  build: ({ config, classes, prefix }) => {
    const clip = clipGeometry(config);
    const g = glowSection(config);
    const name = `${prefix}glow`;
    const detector =
      g.training === 'per-id'
        ? new PerIdGlowDetector(
            g,
            clip.nMels,
            classes.map((c) => c.machineId),
            name,
            config.seed,
          )
        : new GlowDetector(g, clip.nMels, classes.length, name, config.seed);
    return new LogMelSystem(detector, clip);
  },
};
