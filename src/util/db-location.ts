/**
 * What a `--db` value names (a PostgreSQL URL or a SQLite file) and how it is printed: in
 * messages, hints and reports a URL's password is never repeated (src/util/secrets.ts), and a hint
 * names no --db when the store is the default one, so a password set in $EXP_DB stays there.
 */
import { UserError } from './errors.js';
import { maskSecrets } from './secrets.js';

/** The location with its passwords (user:PASSWORD@, password=...) replaced by ***; see maskSecrets. */
export const maskPassword = (location: string): string => maskSecrets(location);

export type StoreKind = 'postgres' | 'sqlite';

const POSTGRES = /^postgres(ql)?:\/\//i;
// scheme: at the start (two letters or more, so a Windows drive C:\ is a path).
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]+:/;

/**
 * Which engine a --db value names. Anything that starts like a URL but is not postgres:// is
 * refused rather than taken as a file name: a mistyped scheme would otherwise create a SQLite file
 * named after the URL, password included. A file whose name looks like a URL is written ./name.
 */
export function storeKind(location: string, what = '--db'): StoreKind {
  if (POSTGRES.test(location)) return 'postgres';
  if (location !== ':memory:' && URL_LIKE.test(location)) {
    throw new UserError(
      `${what} ${maskSecrets(location)}: not a run store exp can open; expected a postgres:// (or postgresql://) URL or the path of a SQLite file`,
      'a file whose name looks like a URL is given as ./name',
    );
  }
  return 'sqlite';
}

/** A `--db` value that names a PostgreSQL database (refusing other URL schemes, see storeKind). */
export const isPostgresUrl = (location: string): boolean => storeKind(location) === 'postgres';

/** The store --db names when none is given: $EXP_DB, else runs/exp.db. */
export const defaultDb = (): string => process.env.EXP_DB || 'runs/exp.db';

const shellQuote = (s: string): string => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** ` --db LOCATION` for a command hint, password masked; '' when the location is the default store. */
export function dbFlag(location: string | null | undefined): string {
  if (!location || location === defaultDb()) return '';
  return ` --db ${shellQuote(maskPassword(location))}`;
}
