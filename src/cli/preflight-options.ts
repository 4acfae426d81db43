import { audioCacheFor, type PreflightOptions } from '../preflight/preflight.js';

/** The CLI's preflight settings: the store's audio-check cache, and progress on a TTY for long checks. */
export function preflightOptions(dbFile: string, verbose: boolean): PreflightOptions {
  const cache = audioCacheFor(dbFile);
  const tty = verbose && process.stderr.isTTY === true;
  let shown = false;
  // Called only for clips actually decoded (cache misses): a cached check prints nothing.
  const onAudioProgress = (done: number, total: number): void => {
    if (done % 200 === 0) {
      shown = true;
      process.stderr.write(`\rexp: checking audio ${done}/${total}`);
    }
    if (done === total && shown) process.stderr.write(`\rexp: checking audio ${done}/${total}\n`);
  };
  return { ...(cache ? { audioCache: cache } : {}), ...(tty ? { onAudioProgress } : {}) };
}
