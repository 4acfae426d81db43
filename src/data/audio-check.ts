import {
  openSync,
  readFileSync,
  readSync,
  closeSync,
  fstatSync,
  statSync,
  writeFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { decodeWav } from '../audio/wav.js';
import { messageOf } from '../util/errors.js';
import { describeFsError } from '../util/fs-errors.js';
import { ensureDir } from '../util/dirs.js';
import { removeDeadTemporaries, temporaryPath } from '../util/temp-paths.js';

/**
 * The audio check shared by `exp data check` and the preflight of `exp run` / `exp sweep`
 * (docs/cli.md, `exp data check`): every clip is read and decoded exactly as training will read it (readWav's
 * decoder: header, sample rate, channels, sample format, a data chunk cut short), and an empty
 * data chunk is a problem too. Each problem is one line naming the file.
 */
export interface AudioProblem {
  path: string;
  problem: string;
}

export interface AudioCheckOptions {
  sampleRate: number;
  /**
   * JSON cache of earlier results keyed by path, size and mtime, so a second run does not decode
   * the same clips again. Absent: every clip is decoded.
   */
  cacheFile?: string;
  /** After each decoded clip (cache hits are silent) and after the last one. */
  onProgress?: (done: number, total: number) => void;
}

export interface AudioCheckResult {
  problems: AudioProblem[];
  checked: number;
  /** Clips whose result came from the cache. */
  cached: number;
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sampleRate: number;
  problem: string | null;
}

type Cache = Record<string, CacheEntry>;

const CACHE_VERSION = 1;

function readCache(file: string | undefined): Cache {
  if (!file) return {};
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; clips?: Cache };
    return raw.version === CACHE_VERSION && raw.clips ? raw.clips : {};
  } catch {
    return {};
  }
}

function writeCache(file: string, cache: Cache): void {
  const tmp = temporaryPath(file);
  try {
    ensureDir(dirname(file), 'the cache directory');
    removeDeadTemporaries(dirname(file));
    writeFileSync(tmp, JSON.stringify({ version: CACHE_VERSION, clips: cache }));
    renameSync(tmp, file);
  } catch {
    // The cache only saves time: without it the next run decodes the clips again.
    rmSync(tmp, { force: true });
  }
}

/** Decodes one clip; returns what is wrong with it, or null. `size`/`mtimeMs` come from the same open file. */
function checkOne(path: string, sampleRate: number): { problem: string | null; size: number; mtimeMs: number } {
  let fd: number | undefined;
  try {
    // Opening a FIFO named like a clip would block for ever: only regular files are opened.
    const kind = statSync(path);
    if (!kind.isFile())
      return { problem: 'not a regular file (a directory, FIFO or device named like a clip)', size: -1, mtimeMs: -1 };
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    const bytes = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, bytes, at, st.size - at, at);
      if (n === 0) break;
      at += n;
    }
    return { problem: problemOf(bytes.subarray(0, at), path, sampleRate), size: st.size, mtimeMs: st.mtimeMs };
  } catch (e) {
    return { problem: `cannot read: ${describeFsError(e)}`, size: -1, mtimeMs: -1 };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function problemOf(bytes: Uint8Array, path: string, sampleRate: number): string | null {
  if (bytes.length === 0) return 'empty file (0 bytes); expected a mono 16-bit PCM or 32-bit float WAV';
  try {
    const samples = decodeWav(bytes, path, sampleRate);
    if (samples.length === 0) return 'holds no samples (its data chunk is empty)';
    return null;
  } catch (e) {
    // decodeWav names the file first; the report line names it once.
    const m = messageOf(e);
    return m.startsWith(`${path}: `)
      ? m.slice(path.length + 2)
      : m.startsWith(`${path} `)
        ? m.slice(path.length + 1)
        : m;
  }
}

/** Checks every clip (in order) and lists every problem; nothing is thrown for a bad clip. */
export function checkAudio(paths: readonly string[], opts: AudioCheckOptions): AudioCheckResult {
  const cache = readCache(opts.cacheFile);
  const problems: AudioProblem[] = [];
  let cached = 0;
  let changed = false;
  paths.forEach((path, i) => {
    const key = resolve(path);
    const hit = cache[key];
    let problem: string | null;
    if (hit && hit.sampleRate === opts.sampleRate && sameFile(path, hit)) {
      problem = hit.problem;
      cached++;
    } else {
      const r = checkOne(path, opts.sampleRate);
      problem = r.problem;
      if (r.size >= 0) {
        cache[key] = { size: r.size, mtimeMs: r.mtimeMs, sampleRate: opts.sampleRate, problem };
        changed = true;
      }
    }
    if (problem !== null) problems.push({ path, problem });
    if (i + 1 === paths.length || cached < i + 1) opts.onProgress?.(i + 1, paths.length);
  });
  if (opts.cacheFile && changed) writeCache(opts.cacheFile, cache);
  return { problems, checked: paths.length, cached };
}

function sameFile(path: string, e: CacheEntry): boolean {
  try {
    const st = statSync(path);
    return st.size === e.size && st.mtimeMs === e.mtimeMs;
  } catch {
    return false;
  }
}

/** "path: problem" lines, one per problem. */
export function formatAudioProblems(problems: readonly AudioProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.problem}`).join('\n');
}
