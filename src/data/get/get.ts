import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../util/errors.js';
import { describeFsError, isEnvironmentError } from '../../util/fs-errors.js';
import { removeDeadTemporaries, temporaryPath } from '../../util/temp-paths.js';
import { download, discard } from './download.js';
import { ensureRoom, moveInto, unpack } from './extract.js';
import { UNPACK_DIR, archiveUrl, type Archive } from './manifest.js';
import { md5File } from './verify.js';

export interface GetOptions {
  root: string;
  mirror: string | null;
  /** Replaces the published checksums (an md5sum list); files not in it are unverified. */
  checksums: ReadonlyMap<string, string> | null;
  allowUnverified: boolean;
  keepArchives: boolean;
}

export type ArchiveState = 'unpacked' | 'downloaded' | 'partial' | 'missing';

export interface PlannedArchive {
  file: string;
  kind: Archive['kind'];
  type: string;
  url: string;
  md5: string | null;
  approxBytes: number | null;
  state: ArchiveState;
  /** Bytes already on disk (the whole archive, or its .part). */
  haveBytes: number;
  unpackTo: string;
}

export interface GetEvents {
  onArchive?: (a: PlannedArchive, index: number, count: number) => void;
  onProgress?: (have: number, total: number | null) => void;
  onNote?: (line: string) => void;
}

export interface ArchiveOutcome {
  file: string;
  status: 'unpacked' | 'already-unpacked';
  md5: string | null;
  verified: boolean;
  downloadedBytes: number;
  resumedFrom: number;
  files: number;
}

export const downloadsDir = (root: string): string => join(root, 'downloads');
const marker = (root: string, file: string): string => join(downloadsDir(root), `${file}.unpacked.json`);
const sizeOf = (p: string): number => (existsSync(p) ? statSync(p).size : 0);

function expectedMd5(a: Archive, opts: GetOptions): string | null {
  return opts.checksums === null ? a.md5 : (opts.checksums.get(a.file) ?? null);
}

/** What is on disk for each archive; nothing is downloaded or written. */
export function plan(archives: readonly Archive[], opts: GetOptions): PlannedArchive[] {
  return archives.map((a) => {
    const zip = join(downloadsDir(opts.root), a.file);
    const state: ArchiveState = existsSync(marker(opts.root, a.file))
      ? 'unpacked'
      : existsSync(zip)
        ? 'downloaded'
        : existsSync(`${zip}.part`)
          ? 'partial'
          : 'missing';
    const haveBytes = state === 'downloaded' ? sizeOf(zip) : state === 'partial' ? sizeOf(`${zip}.part`) : 0;
    return {
      file: a.file,
      kind: a.kind,
      type: a.type,
      url: archiveUrl(a, opts.mirror),
      md5: expectedMd5(a, opts),
      approxBytes: a.approxBytes,
      state,
      haveBytes,
      unpackTo: join(opts.root, UNPACK_DIR[a.kind], a.type),
    };
  });
}

/** Refuses, before anything is downloaded, to fetch a file that could not be verified. */
export function checkVerifiable(planned: readonly PlannedArchive[], allowUnverified: boolean): void {
  const unverified = planned.filter((p) => p.md5 === null && p.state !== 'unpacked');
  if (unverified.length > 0 && !allowUnverified) {
    throw new UserError(
      `no published checksum is known for ${unverified.map((p) => p.file).join(', ')}; exp data get does not unpack a file it cannot verify`,
      'pass --allow-unverified to unpack it anyway',
    );
  }
}

/** The directory holding `<type>/train|test` inside an unpacked archive: its top level, or one level down. */
function typeDirIn(tmp: string, type: string, archive: string): string {
  if (existsSync(join(tmp, type))) return join(tmp, type);
  const tops = readdirSync(tmp);
  for (const top of tops) if (existsSync(join(tmp, top, type))) return join(tmp, top, type);
  throw new UserError(
    `${archive} holds no ${type}/ directory (its top level: ${tops.join(', ') || 'nothing'}); it is not the published archive`,
    'delete it and download it again',
  );
}

async function verify(
  p: PlannedArchive,
  zip: string,
  allowUnverified: boolean,
  events: GetEvents,
): Promise<{ md5: string; verified: boolean }> {
  const md5 = await md5File(zip);
  if (p.md5 === null) {
    if (!allowUnverified)
      throw new UserError(
        `${zip}: no published checksum to verify it against`,
        'pass --allow-unverified to unpack it anyway',
      );
    events.onNote?.(
      `${p.file}: UNVERIFIED (no published checksum; its MD5 is ${md5}), unpacked because of --allow-unverified`,
    );
    return { md5, verified: false };
  }
  if (md5 !== p.md5) {
    discard(zip);
    throw new UserError(
      `${p.file}: MD5 ${md5} does not match the published ${p.md5} (a corrupted or different download); nothing was unpacked and the file was deleted`,
      'rerun to download it again',
    );
  }
  return { md5, verified: true };
}

async function unpackInto(p: PlannedArchive, zip: string, root: string): Promise<number> {
  // An unpack killed midway leaves a whole archive's files: removed here once its writer is
  // provably gone (src/util/temp-paths.ts).
  removeDeadTemporaries(root);
  const tmp = temporaryPath(join(root, `.exp-unpack-${p.file}`));
  try {
    await unpack(zip, tmp, (bytes) => ensureRoom(root, bytes, `unpacking ${p.file}`));
    return moveInto(typeDirIn(tmp, p.type, zip), p.unpackTo);
  } catch (e) {
    if (isEnvironmentError(e))
      throw new UserError(
        `unpacking ${zip} into ${root}: ${describeFsError(e)}`,
        'nothing was moved into place and the verified archive is kept; fix it and rerun',
      );
    throw e;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Downloads (resuming), verifies and unpacks one archive; an archive already unpacked is skipped. */
export async function getArchive(p: PlannedArchive, opts: GetOptions, events: GetEvents): Promise<ArchiveOutcome> {
  if (p.state === 'unpacked')
    return {
      file: p.file,
      status: 'already-unpacked',
      md5: p.md5,
      verified: p.md5 !== null,
      downloadedBytes: 0,
      resumedFrom: 0,
      files: 0,
    };
  mkdirSync(downloadsDir(opts.root), { recursive: true });
  const zip = join(downloadsDir(opts.root), p.file);
  let downloadedBytes = 0;
  let resumedFrom = 0;
  if (!existsSync(zip)) {
    const r = await download(p.url, zip, {
      ...(events.onProgress ? { onProgress: events.onProgress } : {}),
      ...(events.onNote ? { onNote: events.onNote } : {}),
    });
    downloadedBytes = r.bytes - r.resumedFrom;
    resumedFrom = r.resumedFrom;
  }
  const { md5, verified } = await verify(p, zip, opts.allowUnverified, events);
  const files = await unpackInto(p, zip, opts.root);
  writeFileSync(
    marker(opts.root, p.file),
    `${JSON.stringify({ file: p.file, md5, verified, files, unpackedTo: p.unpackTo, at: new Date().toISOString() })}\n`,
  );
  if (!opts.keepArchives) rmSync(zip, { force: true });
  return { file: p.file, status: 'unpacked', md5, verified, downloadedBytes, resumedFrom, files };
}
