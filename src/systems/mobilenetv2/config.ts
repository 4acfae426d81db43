import { z } from 'zod';
import { partSection, type ExperimentConfig } from '../../config/schema.js';

const positiveInt = z.number().int().positive();

/** MobileNetV2 machine-ID classifier (Giri et al., DCASE 2020 workshop; Sandler et al. 2018). */
export const MobileNetV2Config = z.strictObject({
  /** Width multiplier alpha: not stated in our sources; 0.65 gives Table 5's 1.1 M (1.07 M with 7 IDs). */
  width: z.number().positive().default(0.65),
  /** Log-Mel frames per window (image width) and hop between windows. */
  window: positiveInt.default(64),
  hop: positiveInt.default(32),
  /** Channels of the last 1x1 conv (MobileNetV2: 1280). */
  lastChannels: positiveInt.default(1280),
});

export type MobileNetV2Config = z.infer<typeof MobileNetV2Config>;

/** The `mobilenetv2` section of a config whose system reads it (filled with its defaults by the composed schema). */
export const mobilenetv2Section = (config: ExperimentConfig): MobileNetV2Config =>
  partSection<MobileNetV2Config>(config, 'mobilenetv2');
