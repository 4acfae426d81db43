import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkAudio, type AudioProblem } from '../audio-check.js';
import { indexDataset } from '../dcase.js';
import { summarize, type DatasetSummary } from '../summary.js';
import { UNPACK_DIR } from './manifest.js';

/** DCASE 2020 Task 2 clips are 16 kHz mono (the dataset's description on Zenodo). */
export const DCASE_SAMPLE_RATE = 16000;

export interface UnpackedCheck {
  /** What `exp data check <root>/dev_data` reports, for the types fetched; null when no dev archive was asked for. */
  dev: DatasetSummary | null;
  /** WAV files under <root>/eval_data/<type>/ checked (evaluation test clips carry no label, so only decoding and names). */
  evalClips: number;
  problems: AudioProblem[];
}

const EVAL_NAMES = { train: /^normal_id_\d+_\d+\.wav$/, test: /^(?:(?:normal|anomaly)_)?id_\d+_\d+\.wav$/ } as const;

function evalClips(dir: string, problems: AudioProblem[]): string[] {
  const out: string[] = [];
  for (const split of ['train', 'test'] as const) {
    const d = join(dir, split);
    if (!existsSync(d) || !statSync(d).isDirectory()) continue;
    for (const name of readdirSync(d).sort()) {
      if (!name.toLowerCase().endsWith('.wav')) continue;
      if (!EVAL_NAMES[split].test(name))
        problems.push({ path: join(d, name), problem: `unexpected clip name in ${split}/` });
      out.push(join(d, name));
    }
  }
  return out;
}

/**
 * The check after unpacking: the development root goes through `exp data check`'s own indexer
 * and audio check; the evaluation root (unlabelled test clips, which that indexer rightly refuses
 * as a training root) gets the name and audio checks.
 */
export function checkUnpacked(
  root: string,
  devTypes: readonly string[],
  evalTypes: readonly string[],
  onProgress?: (done: number, total: number) => void,
): UnpackedCheck {
  const problems: AudioProblem[] = [];
  let dev: DatasetSummary | null = null;
  const paths: string[] = [];
  if (devTypes.length > 0) {
    const index = indexDataset(join(root, UNPACK_DIR.dev), { types: [...devTypes] });
    dev = summarize(index);
    paths.push(...index.clips.map((c) => c.path));
  }
  let evalCount = 0;
  for (const type of evalTypes) {
    const clips = evalClips(join(root, UNPACK_DIR['eval-train'], type), problems);
    evalCount += clips.length;
    paths.push(...clips);
  }
  const audio = checkAudio(paths, { sampleRate: DCASE_SAMPLE_RATE, ...(onProgress ? { onProgress } : {}) });
  return { dev, evalClips: evalCount, problems: [...problems, ...audio.problems] };
}
