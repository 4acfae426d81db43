import { z } from 'zod';
import { partSection, type ExperimentConfig } from '../../config/schema.js';

const positiveInt = z.number().int().positive();

/** Glow-Aff (Dohi et al., ICASSP 2021, arXiv 2103.08801): Glow with affine coupling. */
export const GlowConfig = z.strictObject({
  /** Log-Mel frames per segment (image width) and hop between segments. */
  segment: positiveInt.default(32),
  hop: positiveInt.default(32),
  /** Multi-scale levels L and flow steps per level K (Glow's CIFAR setting: 3 and 32). */
  levels: positiveInt.default(3),
  steps: positiveInt.default(32),
  /** Hidden channels of each coupling network (Glow: 512). */
  hidden: positiveInt.default(512),
  coupling: z.enum(['affine', 'additive']).default('affine'),
  /** Weight of the self-supervised term: cross-entropy of the ID-conditioned likelihoods over the type's IDs. */
  idWeight: z.number().min(0).default(1),
});

export type GlowConfig = z.infer<typeof GlowConfig>;

/** The `glow` section of a config whose system reads it (filled with its defaults by the composed schema). */
export const glowSection = (config: ExperimentConfig): GlowConfig => partSection<GlowConfig>(config, 'glow');
