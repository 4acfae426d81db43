import { z } from 'zod';
import { partSection, type ExperimentConfig } from '../../config/schema.js';

const positiveInt = z.number().int().positive();

/** IDNN (Suefusa et al., ICASSP 2020, arXiv 2005.09234): interpolate the middle frame. */
export const IdnnConfig = z.strictObject({
  /** Frames per window; the middle one is predicted from the others (paper: 5). Odd. */
  context: z
    .number()
    .int()
    .min(3)
    .refine((n) => n % 2 === 1, 'an odd number of frames')
    .default(5),
  /** Encoder widths; the decoder mirrors them (64 -> 32 -> 16 -> 32 -> 64 gives Table 5's 46 k). */
  hidden: z.array(positiveInt).min(1).default([64, 32, 16]),
});

export type IdnnConfig = z.infer<typeof IdnnConfig>;

/** The `idnn` section of a config whose system reads it (filled with its defaults by the composed schema). */
export const idnnSection = (config: ExperimentConfig): IdnnConfig => partSection<IdnnConfig>(config, 'idnn');
