/**
 * Two kinds of failure, handled once at the top of the CLI (docs/cli.md):
 * a UserError is something the user can fix (exit 1, one line, no stack);
 * anything else is a bug in exp (exit 2, with the stack for a bug report).
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** The message of any thrown value, for places that must turn it into text. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
