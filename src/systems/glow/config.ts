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
  /**
   * How the flows learn to give a machine's own sounds a higher likelihood than the other machines
   * of its type. `per-id` (Dohi et al.): one flow per machine ID, its own ID's segments as target
   * data and the type's other IDs as outlier data. `id-conditioned`: one flow per type with an
   * ID-conditioned top prior and `idWeight` x the cross-entropy of log p(x | k) over the IDs (the
   * only form before `per-id`; cheaper: one flow instead of one per ID).
   */
  training: z.enum(['per-id', 'id-conditioned']).default('per-id'),
  /** id-conditioned: weight of the cross-entropy of the ID-conditioned likelihoods over the type's IDs. */
  idWeight: z.number().min(0).default(1),
  /** per-id: weight of the target-vs-outlier cross-entropy beside the target NLL. */
  outlierWeight: z.number().min(0).default(1),
  /** per-id: logit per nat per dimension of the target-vs-outlier decision sigmoid(s * (log p(x) / D - c)). */
  outlierScale: z.number().positive().default(20),
});

export type GlowConfig = z.infer<typeof GlowConfig>;

/** The `glow` section of a config whose system reads it (filled with its defaults by the composed schema). */
export const glowSection = (config: ExperimentConfig): GlowConfig => partSection<GlowConfig>(config, 'glow');
