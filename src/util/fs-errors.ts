import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.js';

/**
 * Errors that come from the user's environment (paths, permissions, read-only media, a full disk,
 * a network filesystem going away) rather than from a bug in exp. They become one-line user
 * errors naming the path (docs/cli.md).
 */
const ENV_CODES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (an immutable file, or a special file system)',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error (failing disk or network file system)',
  ESTALE: 'stale network file handle',
  ENXIO: 'no such device',
  ENODEV: 'no such device',
  ETXTBSY: 'file busy',
  EBUSY: 'device or resource busy',
  EFBIG: 'file too large',
  EINVAL: 'invalid argument for this file system',
};

export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isEnvironmentError(e: unknown): boolean {
  const code = errnoCode(e);
  return code !== undefined && code in ENV_CODES;
}

/** Codes by which a filesystem refuses all writes for now: read-only, full, over quota, gone. */
const STORAGE_FAULTS = ['EROFS', 'ENOSPC', 'EDQUOT', 'EIO', 'ESTALE'] as const;

/**
 * The code when `e` says a filesystem refuses writes (it went read-only, filled up, went away),
 * which no trial causes; also seen in the message alone, as an error from a trainer child process
 * arrives ("EROFS: read-only file system, open '...'").
 */
export function storageFault(e: unknown): string | null {
  const code = errnoCode(e);
  if (code !== undefined) return (STORAGE_FAULTS as readonly string[]).includes(code) ? code : null;
  const m = new RegExp(`\\b(${STORAGE_FAULTS.join('|')})\\b`).exec(e instanceof Error ? e.message : String(e));
  return m ? m[1]! : null;
}

/**
 * Why `dir` cannot be written now (its nearest existing ancestor is asked, as a missing run
 * directory is created on first use): EROFS, EACCES, ...; null when it can be. A write that
 * failed oddly is checked this way: Node's recursive mkdir on a read-only filesystem reports
 * ENOENT, not EROFS.
 */
export function unwritableBecause(dir: string): string | null {
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    accessSync(at, constants.W_OK);
    return null;
  } catch (e) {
    return errnoCode(e) ?? 'EACCES';
  }
}

/** "read-only file system (EROFS)" for a code storageFault returned. */
export const describeCode = (code: string): string => `${ENV_CODES[code] ?? 'error'} (${code})`;

/** "no space left on the device (ENOSPC)" for an errno error, else its message. */
export function describeFsError(e: unknown): string {
  const code = errnoCode(e);
  if (code !== undefined && code in ENV_CODES) return `${ENV_CODES[code]} (${code})`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs `fn`; an environment error becomes `UserError("<path>: <what>: <reason>")`. Anything else
 * (a bug) is rethrown unchanged.
 */
export function withFsErrors<T>(path: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asUserFsError(e, path, what);
  }
}

export function asUserFsError(e: unknown, path: string, what: string): unknown {
  if (e instanceof UserError || !isEnvironmentError(e)) return e;
  return new UserError(`${path}: ${what}: ${describeFsError(e)}`);
}
