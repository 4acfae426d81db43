import { z } from 'zod';
import { partSection, type ExperimentConfig } from '../../config/schema.js';

const positiveInt = z.number().int().positive();

/** AE, the DCASE 2020 Task 2 baseline (Koizumi et al. 2020; y-kawagu/dcase2020_task2_baseline). */
export const AeConfig = z.strictObject({
  /** Consecutive log-Mel frames concatenated into one input vector (baseline `frames: 5`). */
  context: positiveInt.default(5),
  /** Units of each hidden dense layer (baseline: 128). */
  hidden: positiveInt.default(128),
  /** Dense + BatchNorm + ReLU layers on each side of the bottleneck (baseline: 4). */
  layers: positiveInt.default(4),
  /** Bottleneck units (baseline: 8). */
  bottleneck: positiveInt.default(8),
});

export type AeConfig = z.infer<typeof AeConfig>;

/** The `ae` section of a config whose system reads it (filled with its defaults by the composed schema). */
export const aeSection = (config: ExperimentConfig): AeConfig => partSection<AeConfig>(config, 'ae');
