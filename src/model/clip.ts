import type { ExperimentConfig } from '../config/schema.js';
import type { ClipGeometry } from './types.js';
import { frameCount } from '../features/logmel.js';

/** The clip geometry a config implies: N = round(seconds * sampleRate), T = 1 + floor(N / hop). */
export function clipGeometry(config: ExperimentConfig): ClipGeometry {
  const samples = Math.round(config.data.seconds * config.data.sampleRate);
  const hop = config.features.logmel.hop;
  return {
    sampleRate: config.data.sampleRate,
    samples,
    hop,
    nMels: config.features.logmel.nMels,
    frames: frameCount(samples, hop),
  };
}
