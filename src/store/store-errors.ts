import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { UserError, messageOf } from '../util/errors.js';
import { describeFsError, errnoCode } from '../util/fs-errors.js';

/**
 * SQLite's result codes that mean "the file or its medium", not "a bug in exp": the file is not
 * a database, is damaged or truncated, is read-only (media, permissions, chattr +i), or the disk
 * is full. They become one-line user errors naming the store.
 */
export function storeProblem(code: string): string | null {
  if (code === 'SQLITE_NOTADB') return 'is not a SQLite database (expected an exp run store)';
  if (code.startsWith('SQLITE_CORRUPT'))
    return 'the run store is damaged or truncated (SQLite: database disk image is malformed)';
  if (code.startsWith('SQLITE_READONLY'))
    return 'the run store is read-only (read-only file system, file permissions, or an immutable file)';
  if (code === 'SQLITE_FULL') return 'no space left on the device for the run store';
  if (code.startsWith('SQLITE_IOERR'))
    return `input/output error on the run store (${code}; a full or failing disk, or a network file system)`;
  if (code.startsWith('SQLITE_CANTOPEN'))
    return 'cannot open the run store (missing directory, no permission, or read-only media)';
  if (code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') return 'permission denied on the run store';
  return null;
}

export function isReadOnlyProblem(e: unknown): boolean {
  const code = errnoCode(e) ?? '';
  return (
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'SQLITE_PERM' ||
    code === 'EROFS' ||
    code === 'EACCES' ||
    code === 'EPERM'
  );
}

/** The store's environment error as a UserError naming the file, or the error itself (a bug). */
export function asStoreError(e: unknown, file: string): unknown {
  if (e instanceof UserError) return e;
  const code = errnoCode(e);
  if (code === undefined) return e;
  const problem = storeProblem(code);
  if (problem) return new UserError(`${file}: ${problem}`);
  if (code.startsWith('E')) return new UserError(`${file}: the run store: ${describeFsError(e)}`);
  return e;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * What can be said about the file before SQLite opens it: a directory or a non-SQLite file gets a
 * precise message here (SQLite itself only says "unable to open database file" for a directory).
 * A missing or empty file is fine: SQLite creates the store.
 */
export function precheckStoreFile(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new UserError(`${file}: a component of the path is a file, not a directory`);
    throw new UserError(`${file}: cannot read the run store: ${describeFsError(e)}`);
  }
  if (st.isDirectory())
    throw new UserError(
      `${file}: is a directory; --db expects a run store file (e.g. ${file.replace(/\/$/, '')}/exp.db)`,
    );
  if (!st.isFile()) throw new UserError(`${file}: is not a regular file; --db expects a run store file`);
  if (st.size === 0) return;
  const head = Buffer.alloc(16);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    readSync(fd, head, 0, 16, 0);
  } catch (e) {
    throw new UserError(`${file}: cannot read the run store: ${describeFsError(e)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (st.size < 512 || head.toString('latin1') !== SQLITE_MAGIC) {
    throw new UserError(`${file}: is not a SQLite database (expected an exp run store)`);
  }
}

/**
 * The store's server stayed unreachable for the whole retry time (PostgreSQL; see pg/retry.ts).
 * A user-facing error (exit 1, one line): the fault is the environment's. A run session that meets
 * it stops at its last stored checkpoint instead of failing (session.ts).
 */
export class StoreUnreachableError extends UserError {
  constructor(
    readonly location: string,
    readonly seconds: number,
    cause: unknown,
  ) {
    super(`${location}: the PostgreSQL server has not answered for ${seconds} s (${messageOf(cause).split('\n')[0]})`);
  }
}

export function isStoreUnreachable(e: unknown): e is StoreUnreachableError {
  return e instanceof StoreUnreachableError;
}
