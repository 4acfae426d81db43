import { dirname, join } from 'node:path';
import type { ExperimentConfig } from '../config/schema.js';
import { indexDataset, type Clip } from '../data/dcase.js';
import { selectTestClips, selectTrainClips, splitValidation } from '../data/select.js';
import { resolveDataParallel } from '../data/resolve.js';
import { checkAudio, formatAudioProblems, type AudioCheckResult } from '../data/audio-check.js';
import { UserError } from '../util/errors.js';

/**
 * Everything about a run that can be known before training, checked before a run row is created
 * (docs/cli.md, "Checked before training"): config values the model cannot take, whether the dataset can be evaluated (every
 * test ID has normal and anomalous clips), and whether every clip the run will use decodes
 * (exp data check's audio check, cached by file size and mtime). A refusal is a UserError; nothing is
 * written to the store. Called by the run session for `exp run`, `exp run --resume` and each
 * sweep trial, and by `exp sweep` for all trials before the first one starts.
 */
export interface PreflightOptions {
  /** Audio-check cache (e.g. `<store dir>/cache/audio-check.json`); absent = decode every clip. */
  audioCache?: string;
  /** Called with progress while clips are decoded (the first run over a large set takes a while). */
  onAudioProgress?: (done: number, total: number) => void;
}

export interface PreflightReport {
  root: string;
  train: number;
  val: number;
  test: number;
  audio: AudioCheckResult;
}

/** Where the audio-check cache of a run store lives: `<store dir>/cache/audio-check.json`. */
export function audioCacheFor(dbFile: string): string | undefined {
  // A postgres:// store has no directory of its own: the cache goes under runs/ in the working directory.
  if (/^postgres(ql)?:\/\//.test(dbFile)) return join('runs', 'cache', 'audio-check.json');
  return dbFile === ':memory:' ? undefined : join(dirname(dbFile), 'cache', 'audio-check.json');
}

export async function preflight(config: ExperimentConfig, opts: PreflightOptions = {}): Promise<PreflightReport> {
  const configProblems = checkConfigValues(config);
  if (configProblems.length > 0) throw new UserError(configProblems.join('\n'));
  // The one step before training that may take a while on a fresh machine: the synthetic set, on every core.
  const root = await resolveDataParallel(config);
  const { train, val, test } = selectClips(root, config);
  const audio = checkAudio(
    [...train, ...val, ...test].map((c) => c.path),
    {
      sampleRate: config.data.sampleRate,
      ...(opts.audioCache ? { cacheFile: opts.audioCache } : {}),
      ...(opts.onAudioProgress ? { onProgress: opts.onAudioProgress } : {}),
    },
  );
  if (audio.problems.length > 0) {
    const n = audio.problems.length;
    throw new UserError(
      `${root}: ${n} of the run's ${audio.checked} clips cannot be used (one line each below; fix or remove them, exp data check ${root} lists them too)\n${formatAudioProblems(audio.problems)}`,
    );
  }
  return { root, train: train.length, val: val.length, test: test.length, audio };
}

/** Values the schema accepts but the front end cannot run with, for any system; one line each. */
export function checkConfigValues(config: ExperimentConfig): string[] {
  const out: string[] = [];
  // Model-specific values (e.g. the classifier's train.batchSize >= 2 for BatchNorm) are checked
  // by the system's own check(), which the run session runs just before this preflight.
  const { features, data } = config;
  const lm = features.logmel;
  const samples = Math.round(data.seconds * data.sampleRate);
  const nyquist = data.sampleRate / 2;
  if (lm.nFft > samples)
    out.push(
      `features.logmel.nFft: ${lm.nFft} is longer than a clip (data.seconds ${data.seconds} s at ${data.sampleRate} Hz = ${samples} samples)`,
    );
  if (lm.fMax !== null && lm.fMax > nyquist)
    out.push(
      `features.logmel.fMax: ${lm.fMax} Hz is above the Nyquist frequency of data.sampleRate ${data.sampleRate} Hz (${nyquist} Hz)`,
    );
  if (lm.fMin >= (lm.fMax ?? nyquist))
    out.push(`features.logmel.fMin: ${lm.fMin} Hz must be below fMax (${lm.fMax ?? nyquist} Hz)`);
  return out;
}

/** The clips the run will use, selected exactly as src/train/data.ts selects them. */
function selectClips(root: string, config: ExperimentConfig): { train: Clip[]; val: Clip[]; test: Clip[] } {
  const index = indexDataset(root, { types: config.data.types });
  const all = selectTrainClips(index, { maxClipsPerId: config.data.maxClipsPerId, seed: config.seed });
  const test = selectTestClips(index, { maxPerId: config.data.maxTestClipsPerId, seed: config.seed });
  if (test.length === 0)
    throw new UserError(`${root}: no test clips found (expected <type>/test/{normal,anomaly}_id_XX_*.wav)`);
  const frac = config.train.valSplit;
  const { train, val } = frac === null ? { train: all, val: [] } : splitValidation(all, frac, config.seed);
  if (train.length < 2)
    throw new UserError(`${root}: only ${train.length} training clip(s) selected; need at least 2 for a batch`);
  const counts = new Map<string, { normal: number; anomaly: number }>();
  for (const c of test) {
    const k = `${c.type} ${c.machineId}`;
    const n = counts.get(k) ?? { normal: 0, anomaly: 0 };
    if (c.label === 1) n.anomaly++;
    else n.normal++;
    counts.set(k, n);
  }
  // AUC is computed per machine ID (§3.1): each needs both labels, or the run would fail after training.
  const bad = [...counts].filter(([, n]) => n.normal === 0 || n.anomaly === 0);
  if (bad.length > 0) {
    const list = bad.map(([k, n]) => `${k} (${n.normal} normal, ${n.anomaly} anomalous)`).join(', ');
    throw new UserError(
      `${root}: every machine ID needs normal and anomalous test clips for its AUC; missing for ${list}`,
    );
  }
  return { train, val, test };
}
