import {
  createWriteStream,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { UserError, messageOf } from '../../util/errors.js';
import { formatBytes, freeBytes } from './bytes.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
/** Made by: the high byte of versionMadeBy; 3 = Unix, whose upper 16 bits of externalFileAttributes are st_mode. */
const UNIX = 3;

/** Why an entry name is refused, or null when it is a plain relative path. */
export function unsafeEntryName(name: string): string | null {
  if (name.length === 0) return 'an empty name';
  if (name.includes('\0')) return 'a NUL character in the name';
  if (name.includes('\\')) return 'a backslash in the name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  if (name.split('/').includes('..')) return 'a ".." path component';
  return null;
}

/**
 * The entry's name, decoded here rather than by yauzl (decodeStrings off) so that a hostile name
 * reaches our own check and its clear message: UTF-8 when the entry says so (general purpose bit
 * 11), else byte-for-byte (CP437 agrees with it on ASCII, which the DCASE names are).
 */
export function entryName(e: yauzl.Entry): string {
  const raw = e.fileName as unknown as Buffer | string;
  if (typeof raw === 'string') return raw;
  return raw.toString((e.generalPurposeBitFlag & 0x800) !== 0 ? 'utf8' : 'latin1');
}

function entryKind(e: yauzl.Entry): 'file' | 'dir' | 'other' {
  if (entryName(e).endsWith('/')) return 'dir';
  if (e.versionMadeBy >> 8 !== UNIX) return 'file';
  const mode = (e.externalFileAttributes >>> 16) & S_IFMT;
  if (mode === 0 || mode === S_IFREG) return 'file';
  if (mode === S_IFDIR) return 'dir';
  return 'other'; // a symbolic link, a device, a FIFO
}

function refuse(archive: string, name: string, why: string): UserError {
  return new UserError(
    `${archive}: refusing to unpack the entry ${JSON.stringify(name)} (${why}); nothing was unpacked`,
    'the archive is not the published one: delete it and download it again',
  );
}

function openZip(archive: string): Promise<yauzl.ZipFile> {
  return new Promise((res, rej) => {
    yauzl.open(
      archive,
      { lazyEntries: true, autoClose: true, validateEntrySizes: true, decodeStrings: false },
      (err, zip) => (err ? rej(err) : res(zip)),
    );
  });
}

function entries(zip: yauzl.ZipFile, onEntry: (e: yauzl.Entry) => Promise<void>): Promise<void> {
  return new Promise((res, rej) => {
    zip.on('entry', (e: yauzl.Entry) => {
      onEntry(e).then(
        () => zip.readEntry(),
        (err: unknown) => {
          zip.close();
          rej(err);
        },
      );
    });
    zip.on('end', () => res());
    zip.on('error', rej);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, e: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((res, rej) => zip.openReadStream(e, (err, s) => (err ? rej(err) : res(s))));
}

/**
 * Unpacks `archive` into the fresh directory `into`. Every entry is checked before anything is
 * written: an absolute name, a ".." component, a symbolic link or any other non-regular file, or a
 * name given twice refuses the whole archive (a zip-slip archive writes nothing).
 */
export async function unpack(
  archive: string,
  into: string,
  beforeWriting?: (unpackedBytes: number) => void,
): Promise<number> {
  const names = new Set<string>();
  let unpackedBytes = 0;
  const check = await openZip(archive).catch((e: unknown) => {
    throw new UserError(`${archive}: not a readable zip archive (${messageOf(e)})`, 'delete it and download it again');
  });
  await entries(check, async (e) => {
    const name = entryName(e);
    const why = unsafeEntryName(name) ?? (entryKind(e) === 'other' ? 'a symbolic link or special file' : null);
    if (why !== null) throw refuse(archive, name, why);
    const key = name.replace(/\/+$/, '');
    if (entryKind(e) === 'file' && names.has(key)) throw refuse(archive, name, 'a name that appears twice');
    names.add(key);
    unpackedBytes += e.uncompressedSize;
  }).catch((e: unknown) => {
    if (e instanceof UserError) throw e;
    throw new UserError(`${archive}: cannot read the archive (${messageOf(e)})`, 'delete it and download it again');
  });

  beforeWriting?.(unpackedBytes);
  mkdirSync(into, { recursive: true });
  const root = resolve(into);
  let files = 0;
  const zip = await openZip(archive);
  await entries(zip, async (e) => {
    const target = resolve(root, entryName(e));
    if (target !== root && !target.startsWith(root + sep))
      throw refuse(archive, entryName(e), 'a path outside the destination');
    if (entryKind(e) === 'dir') {
      mkdirSync(target, { recursive: true });
      return;
    }
    mkdirSync(dirname(target), { recursive: true });
    await pipeline(await openEntry(zip, e), createWriteStream(target, { flags: 'wx' }));
    files++;
  });
  return files;
}

function walk(dir: string, base = dir, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) walk(p, base, out);
    else out.push(relative(base, p));
  }
  return out;
}

/**
 * Moves every file under `from` to the same relative path under `to`, refusing (before moving
 * anything) when one of them would replace an existing file. A hard link then an unlink is used
 * instead of rename, because link fails on an existing target instead of replacing it.
 */
export function moveInto(from: string, to: string): number {
  const files = walk(from);
  const taken = files.filter((f) => existsSync(join(to, f)));
  if (taken.length > 0) {
    throw new UserError(
      `${join(to, taken[0] as string)} already exists${taken.length > 1 ? ` (and ${taken.length - 1} more of the archive's files)` : ''}; exp data get never replaces a file it did not write`,
      'move them away, or pick another --root',
    );
  }
  for (const f of files) {
    const dest = join(to, f);
    mkdirSync(dirname(dest), { recursive: true });
    linkSync(join(from, f), dest);
    unlinkSync(join(from, f));
  }
  rmSync(from, { recursive: true, force: true });
  return files.length;
}

/** Refuses early when the unpacked files cannot fit. */
export function ensureRoom(dir: string, need: number, what: string): void {
  const free = freeBytes(dir);
  if (free < need)
    throw new UserError(
      `${dir}: ${what} needs ${formatBytes(need)} but only ${formatBytes(free)} are free`,
      'free space and rerun; the verified archive is kept',
    );
}
