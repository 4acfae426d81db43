import type { ExperimentConfig } from '../config/schema.js';
import { ensureSyntheticDataset } from './synth/generate.js';
import { ensureSyntheticDatasetParallel } from './synth/parallel.js';

/**
 * The dataset root a config trains on: `data.root`, else the built-in synthetic set of the
 * config's generator version (`data.synthVersion`) at its clip length and sample rate, generated
 * on first use. The one place that decides it: training, preflight (which checks the clips the
 * run will read) and calibration all call it, so they never look at different sets.
 */
export function resolveData(config: ExperimentConfig, onClip?: (done: number, total: number) => void): string {
  const { root, synthVersion, seconds, sampleRate } = config.data;
  return root ?? ensureSyntheticDataset({ version: synthVersion, seconds, sampleRate }, onClip);
}

/** resolveData, with a missing synthetic set generated on worker threads (one per core). */
export async function resolveDataParallel(
  config: ExperimentConfig,
  onClip?: (done: number, total: number) => void,
): Promise<string> {
  const { root, synthVersion, seconds, sampleRate } = config.data;
  return root ?? (await ensureSyntheticDatasetParallel({ version: synthVersion, seconds, sampleRate }, onClip));
}
