import { UserError } from './errors.js';

/**
 * One rule for every name a user gives exp (run names from --name, an experiment's `name:` or
 * `--set name=...`, sweep and trial names, names a grid builds from its values): names are shown
 * in terminals, tables, CSV/markdown exports and HTML/SVG reports, and stored in a shared
 * database, so they are one line of printable text of bounded length. Names already in a store
 * from before this rule are escaped where they are shown (displayText in ./format.ts).
 */
export const MAX_NAME_LENGTH = 256;

/**
 * Characters that change how the text around them is shown rather than being shown: C0/C1
 * controls (ESC starts terminal colour and cursor sequences, NUL ends C strings, CR/LF forge
 * lines), Unicode format characters (bidi overrides reorder a line, zero-width characters hide
 * differences between two names) and the Unicode line and paragraph separators.
 */
export const UNSAFE_CHARS = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
const UNSAFE_GLOBAL = new RegExp(UNSAFE_CHARS.source, 'gu');

/** `U+001B`-style code of a character, for messages. */
export const codePoint = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Throws a one-line user error unless `value` is an acceptable name; `what` says where it came
 * from (e.g. "--name", "experiments/x.yaml: name"). The message never echoes the raw characters.
 */
export function checkName(value: string, what: string): string {
  if (value.trim() === '') throw new UserError(`${what}: a name cannot be empty or only spaces`);
  const bad = UNSAFE_CHARS.exec(value);
  if (bad) {
    throw new UserError(
      `${what}: the name contains the control or format character ${codePoint(bad[0])} at position ${bad.index + 1}; names are printable text on one line`,
    );
  }
  const length = [...value].length;
  if (length > MAX_NAME_LENGTH)
    throw new UserError(`${what}: the name is ${length} characters long; at most ${MAX_NAME_LENGTH} are allowed`);
  return value;
}

/** `\x1B`, `\u{202E}`: a visible stand-in for a character that must not reach a terminal or file raw. */
const escapeChar = (ch: string): string => {
  const cp = ch.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}` : `\\u{${cp.toString(16).toUpperCase()}}`;
};

/**
 * Text from the store or the user, made safe to show: every control or format character becomes
 * a visible escape (ESC -> \x1B, a newline -> \x0A), so a name can neither recolour a terminal
 * nor forge a table line. `keepNewlines` leaves \n alone for multi-line messages exp writes
 * itself. Long text is cut to `max` characters with an ellipsis.
 */
export function displayText(s: string, opts: { max?: number; keepNewlines?: boolean } = {}): string {
  let out = s.replace(UNSAFE_GLOBAL, (ch) => (opts.keepNewlines && ch === '\n' ? ch : escapeChar(ch)));
  if (opts.max !== undefined && out.length > opts.max) out = `${out.slice(0, Math.max(1, opts.max - 1))}…`;
  return out;
}

/** A name as shown: escaped, and cut to a length a table can hold (an old store may hold longer ones). */
export const displayName = (s: string): string => displayText(s, { max: MAX_NAME_LENGTH + 20 });
