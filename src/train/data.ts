import type { ExperimentConfig } from '../config/schema.js';
import type { Clip, DatasetIndex } from '../data/dcase.js';
import { indexDataset } from '../data/dcase.js';
import { selectTrainClips, selectTestClips, splitValidation } from '../data/select.js';
import { loadClip } from '../data/load.js';
import { logMel } from '../features/logmel.js';
import type { ClipArrays } from './batch.js';
import type { Split } from './loop.js';
import { UserError } from '../util/errors.js';

/**
 * Above this many bytes of waveforms + log-Mels a split is read from disk per batch instead of
 * held in memory (the real DCASE training set is ~23 GB of 10 s waveforms).
 */
const IN_MEMORY_LIMIT = 6 * 1024 ** 3;

export interface PreparedData {
  index: DatasetIndex;
  numClasses: number;
  train: Split;
  val: Split | null;
  test: Split;
}

function logMelOptions(config: ExperimentConfig) {
  const lm = config.features.logmel;
  return { ...lm, fMax: lm.fMax ?? undefined, sampleRate: config.data.sampleRate };
}

/** Waveforms and log-Mels for a list of clips, in memory or read on demand. */
export function clipArrays(clips: readonly Clip[], config: ExperimentConfig): ClipArrays {
  const load = { sampleRate: config.data.sampleRate, seconds: config.data.seconds };
  const samples = Math.round(load.seconds * load.sampleRate);
  const lmOpts = logMelOptions(config);
  const probe = logMel(new Float32Array(samples), lmOpts);
  const [nMels, frames] = probe.shape;
  const bytes = clips.length * (samples + nMels * frames) * 4;
  if (bytes <= IN_MEMORY_LIMIT) {
    const waves = clips.map((c) => loadClip(c.path, load));
    const mels = waves.map((w) => logMel(w, lmOpts).data);
    return { samples, nMels, frames, wave: (i) => waves[i]!, logmel: (i) => mels[i]! };
  }
  // Too large to hold: each access re-reads and re-computes (a one-entry cache covers the
  // wave-then-logmel access pattern of makeInputs).
  let last: { i: number; wave: Float32Array; mel: Float32Array | null } | null = null;
  const get = (i: number) => {
    if (!last || last.i !== i) last = { i, wave: loadClip(clips[i]!.path, load), mel: null };
    return last;
  };
  return {
    samples,
    nMels,
    frames,
    wave: (i) => get(i).wave,
    logmel: (i) => {
      const e = get(i);
      const mel = e.mel ?? logMel(e.wave, lmOpts).data;
      e.mel = mel;
      return mel;
    },
  };
}

function split(clips: readonly Clip[], config: ExperimentConfig): Split {
  return {
    clips: clipArrays(clips, config),
    count: clips.length,
    classIndex: Int32Array.from(clips.map((c) => c.classIndex)),
    meta: clips.map((c) => ({ path: c.path, type: c.type, id: c.machineId, label: c.label })),
  };
}

/**
 * Indexes the root, picks training / validation / test clips and loads them. The validation
 * hold-out (train.valSplit) is drawn per machine ID from the run seed; it never touches test data.
 */
export function prepareData(root: string, config: ExperimentConfig): PreparedData {
  const index = indexDataset(root, { types: config.data.types });
  const trainAll = selectTrainClips(index, { maxClipsPerId: config.data.maxClipsPerId, seed: config.seed });
  const test = selectTestClips(index, { maxPerId: config.data.maxTestClipsPerId, seed: config.seed });
  if (test.length === 0)
    throw new UserError(`${root}: no test clips found (expected <type>/test/{normal,anomaly}_id_XX_*.wav)`);
  const frac = config.train.valSplit;
  const { train, val } = frac === null ? { train: trainAll, val: [] } : splitValidation(trainAll, frac, config.seed);
  if (train.length < 2)
    throw new UserError(`${root}: only ${train.length} training clip(s) selected; need at least 2 for a batch`);
  return {
    index,
    numClasses: index.classes.length,
    train: split(train, config),
    val: val.length > 0 ? split(val, config) : null,
    test: split(test, config),
  };
}
