import { createWriteStream, existsSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { UserError, messageOf } from '../../util/errors.js';
import { describeFsError, errnoCode, isEnvironmentError } from '../../util/fs-errors.js';
import { formatBytes, freeBytes } from './bytes.js';

export interface DownloadEvents {
  /** Called as bytes arrive: bytes on disk so far, and the total when the server said it. */
  onProgress?: (have: number, total: number | null) => void;
  /** One-line notes (resuming, server without Range support). */
  onNote?: (line: string) => void;
}

export interface DownloadResult {
  bytes: number;
  resumedFrom: number;
}

/** `Content-Range: bytes 100-199/200` → { start: 100, total: 200 }; `bytes *\/200` → { start: null, total: 200 }. */
export function parseContentRange(value: string | null): { start: number | null; total: number | null } | null {
  if (value === null) return null;
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(value.trim());
  if (!m) return null;
  return { start: m[1] === undefined ? null : Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

async function request(url: string, from: number): Promise<Response> {
  try {
    return await fetch(url, { headers: from > 0 ? { Range: `bytes=${from}-` } : {}, redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    throw new UserError(
      `cannot reach ${url}: ${cause === undefined ? messageOf(e) : messageOf(cause)}`,
      'check the network, or pass --mirror URL / set EXP_DATA_MIRROR',
    );
  }
}

/**
 * Streams `url` into `<dest>.part`, resuming it with an HTTP Range request when a previous run left
 * one, then renames it to `dest`. Whatever goes wrong, the bytes already on disk stay in the .part
 * file (each is a correct prefix of the file, since they are written in order), so a rerun resumes.
 */
export async function download(url: string, dest: string, events: DownloadEvents = {}): Promise<DownloadResult> {
  const part = `${dest}.part`;
  let have = sizeOf(part);
  let res = await request(url, have);
  if (have > 0 && res.status === 416) {
    // The part may already be whole (a run that died between the last byte and the rename).
    const range = parseContentRange(res.headers.get('content-range'));
    await res.body?.cancel();
    if (range?.total === have) {
      renameSync(part, dest);
      return { bytes: have, resumedFrom: have };
    }
    events.onNote?.(`${part}: the server refused to resume at byte ${have}; downloading it again from the start`);
    truncateSync(part, 0);
    have = 0;
    res = await request(url, 0);
  }
  if (have > 0 && res.status === 200) {
    events.onNote?.(
      `${url}: the server does not support resuming (no Range support); downloading it again from the start`,
    );
    truncateSync(part, 0);
    have = 0;
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new UserError(
      `${url}: the server answered HTTP ${res.status} ${res.statusText}`,
      res.status === 404 ? 'is the --mirror URL right? It must hold the same file names' : undefined,
    );
  }
  if (res.body === null) throw new UserError(`${url}: the server sent no body`);
  let total: number | null = null;
  if (res.status === 206) {
    const range = parseContentRange(res.headers.get('content-range'));
    if (range === null || range.start !== have) {
      await res.body.cancel();
      throw new UserError(
        `${url}: the server answered the resume request for byte ${have} with Content-Range ${JSON.stringify(res.headers.get('content-range'))}`,
      );
    }
    total = range.total;
    events.onNote?.(`${dest}: resuming at ${formatBytes(have)}`);
  } else {
    const length = res.headers.get('content-length');
    total = length === null ? null : Number(length);
  }
  const resumedFrom = have;
  if (total !== null) {
    const free = freeBytes(dirname(dest));
    if (free < total - have) {
      await res.body.cancel();
      throw new UserError(
        `${dirname(dest)}: ${formatBytes(total - have)} still to download for ${dest} but only ${formatBytes(free)} free`,
        have > 0
          ? `the ${formatBytes(have)} already in ${part} are kept; free space and rerun to resume`
          : 'free space and rerun',
      );
    }
  }
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      have += chunk.length;
      events.onProgress?.(have, total);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      counter,
      createWriteStream(part, { flags: 'a' }),
    );
  } catch (e) {
    throw transferError(e, url, part);
  }
  const onDisk = sizeOf(part);
  if (total !== null && onDisk !== total) {
    throw new UserError(
      `${url}: the transfer ended at ${formatBytes(onDisk)} of ${formatBytes(total)}`,
      `the part is kept in ${part}; rerun to resume`,
    );
  }
  renameSync(part, dest);
  return { bytes: onDisk, resumedFrom };
}

function transferError(e: unknown, url: string, part: string): UserError {
  const kept = `${formatBytes(sizeOf(part))} kept in ${part}`;
  if (isEnvironmentError(e)) {
    const hint =
      errnoCode(e) === 'ENOSPC' || errnoCode(e) === 'EDQUOT'
        ? `${kept}; free space and rerun to resume`
        : `${kept}; rerun to resume`;
    return new UserError(`${part}: ${describeFsError(e)}`, hint);
  }
  const cause = (e as { cause?: unknown }).cause;
  const why = cause === undefined ? messageOf(e) : `${messageOf(e)}: ${messageOf(cause)}`;
  return new UserError(`${url}: the transfer was cut off (${why})`, `${kept}; rerun to resume`);
}

/** Removes a file that failed verification, so the next run downloads it again. */
export function discard(path: string): void {
  rmSync(path, { force: true });
}
