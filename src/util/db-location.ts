/**
 * How a run store's location (a SQLite path or a postgres:// URL) is printed: in messages, hints
 * and reports a URL's password is never repeated, and a hint names no --db when the store is the
 * default one, so a password set in $EXP_DB stays there.
 */

const MASK = '***';

/** The location with a postgres:// URL's password (user:PASSWORD@ or ?password=) replaced by ***. */
export function maskPassword(location: string): string {
  if (!/^postgres(ql)?:\/\//i.test(location)) return location;
  try {
    const u = new URL(location);
    if (u.password) u.password = MASK;
    for (const key of [...u.searchParams.keys()]) if (key.toLowerCase() === 'password') u.searchParams.set(key, MASK);
    return u.toString();
  } catch {
    // Not parseable as a URL: hide everything between the user name and the host all the same.
    return location.replace(/^(postgres(?:ql)?:\/\/[^:@/]*:)[^@]*@/i, `$1${MASK}@`).replace(/([?&]password=)[^&]*/gi, `$1${MASK}`);
  }
}

/** The store --db names when none is given: $EXP_DB, else runs/exp.db. */
export const defaultDb = (): string => process.env.EXP_DB || 'runs/exp.db';

const shellQuote = (s: string): string => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** ` --db LOCATION` for a command hint, password masked; '' when the location is the default store. */
export function dbFlag(location: string | null | undefined): string {
  if (!location || location === defaultDb()) return '';
  return ` --db ${shellQuote(maskPassword(location))}`;
}
