import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from './errors.js';
import { asUserFsError, describeFsError, errnoCode } from './fs-errors.js';
import { removeDeadTemporaries, temporaryPath } from './temp-paths.js';

/**
 * The --out rule (docs/cli.md, "Outputs never replace what exp did not write"): exp never deletes or overwrites a file it did not write. Each
 * directory exp writes single-file outputs into gets a small ledger, `.exp-outputs.json`, with
 * the size and mtime of every file exp wrote there; an existing file is replaced only when it is
 * in the ledger and unchanged since (so a user's edits to an exported table are not lost either).
 */
export const LEDGER = '.exp-outputs.json';

interface Ledger {
  written: Record<string, { size: number; mtimeMs: number }>;
}

function readLedger(dir: string): Ledger {
  try {
    const raw = JSON.parse(readFileSync(join(dir, LEDGER), 'utf8')) as Partial<Ledger>;
    return { written: typeof raw.written === 'object' && raw.written !== null ? raw.written : {} };
  } catch {
    return { written: {} };
  }
}

/** Throws a user error unless `file` may be written: missing, or written by exp and unchanged. */
export function checkOutputFile(file: string, flag = '--out'): void {
  const dir = dirname(file);
  let parent;
  try {
    parent = statSync(dir);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new UserError(`${flag} ${file}: directory ${dir} does not exist`);
    throw asUserFsError(e, file, `cannot write ${flag}`);
  }
  if (!parent.isDirectory()) throw new UserError(`${flag} ${file}: ${dir} is not a directory`);
  const link = lstatOrNull(file, flag);
  if (link === null) return;
  // Writing renames over the path: a symbolic link (even a dangling one) would be replaced, not followed.
  if (link.isSymbolicLink())
    throw new UserError(
      `${flag} ${file}: is a symbolic link; exp does not replace it: give the real path or another name`,
    );
  const st = link;
  if (st.isDirectory()) throw new UserError(`${flag} ${file}: is a directory; give a file path`);
  const entry = readLedger(dir).written[basename(file)];
  if (!entry || entry.size !== st.size || entry.mtimeMs !== st.mtimeMs) {
    throw new UserError(
      `${flag} ${file}: the file exists and was not written by exp (or was changed since); exp does not overwrite it: remove it or choose another path`,
    );
  }
}

function lstatOrNull(path: string, flag: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw asUserFsError(e, path, `cannot inspect ${flag}`);
  }
}

/**
 * The rule for a directory exp writes into (`--png DIR`, `--artifacts DIR`), checked before any
 * long work and before any run row exists: the directory exists, or its parent does (exp creates
 * one level, like `mkdir`, never a whole tree from a typo); and a directory can really be made
 * inside it. The probe is what counts for root too: mode bits do not stop root, but a read-only
 * mount (EROFS) or `chattr +i` (EPERM) do. Returns true when the directory is still to be made
 * (createOutputDir, at write time).
 */
export function checkOutputDir(dir: string, flag: string): boolean {
  const st = statOrNull(dir, flag);
  if (st !== null && !st.isDirectory()) throw new UserError(`${flag} ${dir}: exists and is not a directory`);
  const missing = st === null;
  const where = missing ? dirname(resolve(dir)) : dir;
  if (missing) {
    const parent = statOrNull(where, flag);
    if (parent === null)
      throw new UserError(
        `${flag} ${dir}: directory ${where} does not exist (exp creates only the last directory of the path)`,
      );
    if (!parent.isDirectory()) throw new UserError(`${flag} ${dir}: ${where} is not a directory`);
  }
  try {
    rmdirSync(mkdtempSync(join(where, '.exp-probe-')));
  } catch (e) {
    throw new UserError(
      `${flag} ${dir}: cannot ${missing ? `create a directory in ${where}` : 'write into it'}: ${describeFsError(e)}`,
    );
  }
  return missing;
}

/** Makes a directory that checkOutputDir found missing (one level; a concurrent creator is fine). */
export function createOutputDir(dir: string, flag: string): void {
  try {
    mkdirSync(dir);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST' && statOrNull(dir, flag)?.isDirectory()) return;
    throw new UserError(`${flag} ${dir}: cannot create the directory: ${describeFsError(e)}`);
  }
}

function statOrNull(path: string, flag: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new UserError(`${flag} ${path}: cannot inspect: ${describeFsError(e)}`);
  }
}

/**
 * Writes a single-file output under the --out rule: checked first, written to a temporary file
 * and renamed into place (a full disk leaves the old file and no fragment), then recorded in the
 * directory's ledger.
 */
export function writeOutputFile(file: string, data: string | Uint8Array, flag = '--out'): void {
  checkOutputFile(file, flag);
  const tmp = temporaryPath(file, { hidden: true });
  // Fragments of earlier writers killed mid-write (only provably dead ones: src/util/temp-paths.ts).
  removeDeadTemporaries(dirname(file));
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw asUserFsError(e, file, `cannot write ${flag}`);
  }
  recordOutput(file);
}

function recordOutput(file: string): void {
  const dir = dirname(file);
  const ledger = readLedger(dir);
  const st = statSync(file);
  ledger.written[basename(file)] = { size: st.size, mtimeMs: st.mtimeMs };
  try {
    writeFileSync(join(dir, LEDGER), `${JSON.stringify(ledger, null, 1)}\n`);
  } catch (e) {
    // The output itself is written; without its ledger entry exp will only refuse to overwrite it
    // later, which is the safe side. Say so rather than fail the command.
    process.stderr.write(
      `exp: note: ${join(dir, LEDGER)} not updated (${describeFsError(e)}); exp will not overwrite ${file} later\n`,
    );
  }
}
