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
