import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDeadTemporaries, temporaryPath } from '../util/temp-paths.js';

/**
 * A disk cache of the features of a fixed front end (e.g. the log-Mel, which has no weights):
 * one file per clip, computed once and reused by every epoch, every run and every sweep trial
 * with the same front end. The output of a pure function of (the clip's bytes, the front-end
 * options, the front-end code), keyed by all three, so an entry can never be stale:
 *
 * - `<root>/<front-end key>/<sha256 of the clip file>.f32`; the front-end key hashes the options
 *   and the source of the modules that compute the features, so editing the code starts a new
 *   directory rather than reading old values;
 * - files are written to a temporary name and renamed into place, so concurrent processes see a
 *   whole entry or none; a reader that loses a race with eviction reads a miss and recomputes;
 * - bounded: past `maxBytes` the least recently used entries (by mtime, refreshed on hits at most
 *   once an hour) are removed down to 90 % of the bound;
 * - best effort: an unwritable or full disk only costs the caching, never the run.
 */

const MAGIC = 0x46505845; // 'EXPF', little-endian
const VERSION = 1;
/** magic, version, float count, then the first 16 bytes of the data's sha256 (checked on read). */
const HEADER = 28;
const TOUCH_AFTER_MS = 3600_000;

export interface FeatureCacheOptions {
  /** Root directory (e.g. runs/cache/features); one sub-directory per front end. */
  root: string;
  /** Everything the features depend on besides the clip bytes (options, clip length...). */
  frontEnd: unknown;
  /** Source files of the code that computes the features (their bytes enter the key). */
  code: readonly string[];
  /** Bound on the whole root, bytes. */
  maxBytes: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  writes: number;
}

/** Stable JSON (sorted keys) for hashing options. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The key of a clip's content. */
export function contentKey(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The key of a front end: its options, the cache format and the bytes of its code. */
export function frontEndKey(frontEnd: unknown, code: readonly string[]): string {
  const h = createHash('sha256').update(`exp-features/${VERSION}\n${canonical(frontEnd)}\n`);
  for (const file of code) h.update(readFileSync(file)).update('\n');
  return h.digest('hex').slice(0, 32);
}

/**
 * Paths of sibling modules of `moduleUrl` (an import.meta.url), in the extension it runs from:
 * `.js` under dist/, `.ts` under tsx.
 */
export function moduleFiles(moduleUrl: string, relative: readonly string[]): string[] {
  const ext = moduleUrl.endsWith('.ts') ? '.ts' : '.js';
  return relative.map((r) => fileURLToPath(new URL(`${r}${ext}`, moduleUrl)));
}

const digest = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest().subarray(0, 16);

/** An entry's floats, or null when it is not a whole, intact entry of `length` floats. */
function decode(buf: Buffer, length: number): Float32Array | null {
  if (buf.length !== HEADER + 4 * length) return null;
  if (buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== VERSION || buf.readUInt32LE(8) !== length) return null;
  // Renamed into place without an fsync (one per clip would cost more than the features): after
  // a power loss an entry could hold zeros or old blocks, which the checksum refuses.
  if (!digest(buf.subarray(HEADER)).equals(buf.subarray(12, HEADER))) return null;
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(buf.subarray(HEADER));
  return out;
}

function encode(data: Float32Array): Buffer {
  const buf = Buffer.alloc(HEADER + data.byteLength);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(VERSION, 4);
  buf.writeUInt32LE(data.length, 8);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  buf.set(digest(bytes), 12);
  buf.set(bytes, HEADER);
  return buf;
}

export class FeatureCache {
  readonly dir: string;
  readonly stats: CacheStats = { hits: 0, misses: 0, writes: 0 };
  private writable = true;

  constructor(private readonly opts: FeatureCacheOptions) {
    this.dir = join(opts.root, frontEndKey(opts.frontEnd, opts.code));
  }

  private file(key: string): string {
    return join(this.dir, `${key}.f32`);
  }

  private hit(file: string, data: Float32Array | null): Float32Array | null {
    if (data === null) {
      this.stats.misses++;
      return null;
    }
    this.stats.hits++;
    try {
      const now = Date.now();
      if (now - statSync(file).mtimeMs > TOUCH_AFTER_MS) utimesSync(file, now / 1000, now / 1000);
    } catch {
      // evicted meanwhile: the data read is whole all the same
    }
    return data;
  }

  /** The cached features of `key` (length floats), or null. */
  get(key: string, length: number): Float32Array | null {
    const file = this.file(key);
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch {
      this.stats.misses++;
      return null;
    }
    return this.hit(file, decode(buf, length));
  }

  /** get() through an asynchronous read (a prefetch while a step runs). */
  async getAsync(key: string, length: number): Promise<Float32Array | null> {
    const file = this.file(key);
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch {
      this.stats.misses++;
      return null;
    }
    return this.hit(file, decode(buf, length));
  }

  /** Stores the features of `key` (atomically: a temporary file renamed into place). */
  put(key: string, data: Float32Array): void {
    if (!this.writable) return;
    const tmp = temporaryPath(this.file(key), { hidden: true });
    try {
      mkdirSync(this.dir, { recursive: true });
      const fd = openSync(tmp, 'w');
      try {
        const buf = encode(data);
        let off = 0;
        while (off < buf.length) off += writeSync(fd, buf, off);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file(key));
      this.stats.writes++;
    } catch {
      // A read-only or full disk: stop trying for this run; the features are computed anyway.
      this.writable = false;
      rmSync(tmp, { force: true });
    }
  }

  /** Removes the least recently used entries of the whole root when it holds more than maxBytes. */
  prune(): void {
    const entries: Array<{ path: string; size: number; mtime: number }> = [];
    let total = 0;
    let dirs: string[];
    try {
      dirs = readdirSync(this.opts.root);
    } catch {
      return;
    }
    for (const d of dirs) {
      // A clip's features half-written by a process killed meanwhile (provably dead writers only).
      removeDeadTemporaries(join(this.opts.root, d));
      let names: string[];
      try {
        names = readdirSync(join(this.opts.root, d));
      } catch {
        continue;
      }
      for (const n of names) {
        if (!n.endsWith('.f32')) continue;
        const path = join(this.opts.root, d, n);
        try {
          const st = statSync(path);
          entries.push({ path, size: st.size, mtime: st.mtimeMs });
          total += st.size;
        } catch {
          // removed by another process meanwhile
        }
      }
    }
    if (total <= this.opts.maxBytes) return;
    entries.sort((a, b) => a.mtime - b.mtime);
    const target = 0.9 * this.opts.maxBytes;
    for (const e of entries) {
      if (total <= target) break;
      rmSync(e.path, { force: true });
      total -= e.size;
    }
  }
}
