import { isUserError, messageOf, UserError } from '../util/errors.js';
import { describeFsError, errnoCode, isEnvironmentError } from '../util/fs-errors.js';
import { storeProblem } from '../store/store-errors.js';
import { displayText } from '../util/names.js';
import { maskSecrets } from '../util/secrets.js';

/**
 * Wraps a command's action so every failure is handled once, here (docs/cli.md):
 * user mistakes print one line on stderr and exit 1; bugs print the stack and exit 2.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      exitWithError(e);
    }
  };
}

/**
 * A fault of the environment that reached the top without being named closer to its cause
 * (a full disk while writing, a store that became read-only): still the user's to fix, so one
 * line, exit 1. The path is named when the error carries one.
 */
function environmentError(e: unknown): UserError | null {
  const code = errnoCode(e);
  if (code === undefined) return null;
  const path = (e as { path?: unknown }).path;
  const where = typeof path === 'string' ? `${path}: ` : '';
  if (isEnvironmentError(e)) return new UserError(`${where}${describeFsError(e)}`);
  const problem = storeProblem(code);
  return problem ? new UserError(`run store: ${problem}`) : null;
}

export function exitWithError(err: unknown): never {
  const e = environmentError(err) ?? err;
  if (isUserError(e)) {
    // The hint goes on the same line: a user error is one line (docs/cli.md).
    process.stderr.write(
      maskSecrets(`exp: ${displayText(`${e.message}${e.hint ? ` (${e.hint})` : ''}`, { keepNewlines: true })}\n`),
    );
    process.exit(1);
  }
  process.stderr.write(
    maskSecrets(
      `exp: internal error (a bug in exp, please report it): ${displayText(messageOf(e), { keepNewlines: true })}\n`,
    ),
  );
  if (e instanceof Error && e.stack) process.stderr.write(maskSecrets(`${e.stack}\n`));
  process.exit(2);
}

// Declared with the other shared options; re-exported for the commands that import them from here.
export { collect, parsePositiveInt, DEFAULT_DB } from './options.js';
