/**
 * Credentials never leave exp in clear: every message, log line, stored error, report and --json
 * document that may quote a store location goes through maskSecrets. It works on free text, not
 * on one URL, so it also covers a URL quoted inside an error message, a mistyped scheme
 * (postgress://, mysql://) and libpq's keyword form (host=db password=x).
 */

export const MASK = '***';

// scheme://user:password@ — any scheme, // forgotten too. The password runs to the last @ of the word: passwords
// with an unescaped @ are common, and hiding too much is the safe mistake. It stops at whitespace
// and quotes (a URL quoted in text or JSON) but takes backslash escapes (\" inside a JSON string);
// a raw quote inside a password is not seen (URLs percent-encode it).
const USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:(?:\/\/)?[^\s:@/"'`<>\\]*):(?:\\.|[^\s"'`<>\\])*@/g;
// password=..., ?password=...&, sslpassword=, PGPASSWORD=, "password": "..." (quoted values whole).
const KEYWORD = /(\b\w*passw(?:or)?d"?\s*[=:]\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s&;,'"`<>)]+)/gi;

/** The text with every URL password and password= / password: value replaced by ***. */
export function maskSecrets(text: string): string {
  if (!text.includes('@') && !/passw/i.test(text)) return text;
  // A quoted value keeps its quotes, so masked JSON is still JSON.
  return text.replace(USERINFO, `$1:${MASK}@`).replace(KEYWORD, (_, key: string, value: string) => {
    const q = value[0] === '"' || value[0] === "'" ? value[0] : '';
    return `${key}${q}${MASK}${q}`;
  });
}

/**
 * The URL without its password (user:PASSWORD@ and ?password=), for a command line another
 * process runs; the password travels separately (see passwordOf). Unparseable input is returned
 * masked instead, so nothing secret is passed on either way.
 */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    for (const key of [...u.searchParams.keys()]) if (key.toLowerCase() === 'password') u.searchParams.delete(key);
    return u.toString();
  } catch {
    return maskSecrets(url);
  }
}

/** The password a URL carries (user:PASSWORD@ or ?password=), decoded; null when it has none. */
export function passwordOf(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.password) return decodeURIComponent(u.password);
    for (const [key, value] of u.searchParams) if (key.toLowerCase() === 'password') return value;
    return null;
  } catch {
    return null;
  }
}
