import type { SystemDefinition } from '../types.js';
import { GlowConfig, glowSection } from './config.js';
import { LogMelSystem } from '../logmel-system.js';
import { clipGeometry } from '../../model/clip.js';
import { windowCount } from '../frontends.js';
import { UserError } from '../../util/errors.js';
import { GlowDetector } from './detector.js';

/** `system: glow-aff`: one ID-conditioned Glow per machine type (Dohi et al., ICASSP 2021). */
export const glowAffSystem: SystemDefinition = {
  schema: GlowConfig,
  section: 'glow',
  perType: () => true,
  paperRow: (config) => (glowSection(config).coupling === 'affine' ? 'glow-aff' : null),
  configKeys: ['features.logmel', 'glow'],
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
    return new LogMelSystem(
      new GlowDetector(glowSection(config), clip.nMels, classes.length, `${prefix}glow`, config.seed),
      clip,
    );
  },
};
