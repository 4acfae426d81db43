/**
 * Credentials never leave exp in clear: every message, log line, stored error, report and --json
 * document that may quote a store location goes through maskSecrets. It works on free text, not
 * on one URL, so it also covers a URL quoted inside an error message, a mistyped scheme
 * (postgress://, mysql://) and libpq's keyword form (host=db password=x).
 */

export const MASK = '***';

// A quote inside a password (p'q) is kept in it; in a quoted URL or value, the quote that closes it
// is the one followed by whitespace, the end, or text / JSON structure (, ; : ) } ]).
const QUOTE_INSIDE = `["'](?![\\s,;:)}\\]]|$)`;
// Where a URL's userinfo starts: scheme:[//]user: (any scheme, a mistyped one too), with the quote
// right before it if the URL is quoted.
const USERINFO_START = /(["'`]?)\b([A-Za-z][A-Za-z0-9+.-]*:(?:\/\/)?[^\s:@/"'`<>\\]*):/g;
// password=..., ?password=...&, sslpassword=, PGPASSWORD=, "password": "...". A quoted value is
// taken whole with its backslash escapes: libpq's '...' (a space or a quote inside: 'a b', 'it\'s'),
// "...", and \"...\" inside a JSON string. An unquoted value ends at whitespace, a separator or a
// closing quote, a quote inside it kept (p'q). Not seen: a libpq string holding an escaped quote or
// backslash *inside JSON*, where the JSON escaping doubles libpq's backslashes (the value is then
// masked only up to that quote).
const KEYWORD = new RegExp(
  `(\\b\\w*passw(?:or)?d"?\\s*[=:]\\s*)('(?:[^'\\\\]|\\\\.)*'|"(?:[^"\\\\]|\\\\.)*"|\\\\"(?:[^"\\\\]|\\\\[^"])*\\\\"|(?:[^\\s&;,'"\`<>)]|${QUOTE_INSIDE})+)`,
  'gi',
);
/** The text with every URL password and password= / password: value replaced by ***. */
export function maskSecrets(text: string): string {
  if (!text.includes('@') && !/passw/i.test(text)) return text;
  // A quoted value keeps its quotes, so masked JSON is still JSON.
  return maskUserinfo(text).replace(KEYWORD, (_, key: string, value: string) => {
    const q = value.startsWith('\\"') ? '\\"' : value[0] === '"' || value[0] === "'" ? value[0] : '';
    return `${key}${q}${MASK}${q}`;
  });
}

/**
 * scheme://user:password@: the password runs to the last @ of the URL. Passwords with an unescaped
 * @ are common, and hiding too much is the safe mistake. An unquoted URL ends at whitespace; a
 * quoted one (in text, JSON, a shell line) at its closing quote, with backslash escapes (\" in
 * JSON, '\'' in a shell line) and quotes inside the password skipped.
 */
function maskUserinfo(text: string): string {
  let out = '';
  let from = 0;
  for (const m of text.matchAll(USERINFO_START)) {
    const start = m.index! + m[0].length;
    if (start <= from) continue;
    const at = text.lastIndexOf('@', urlEnd(text, start, m[1]!) - 1);
    if (at < start) continue;
    out += `${text.slice(from, m.index! + m[1]!.length)}${m[2]}:${MASK}@`;
    from = at + 1;
  }
  return out + text.slice(from);
}

/** Where the URL that continues at `i` ends: whitespace, or its closing quote when it is quoted. */
function urlEnd(text: string, i: number, quote: string): number {
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) return i;
    if (quote === '') continue;
    // A shell's single-quoted word writes a quote as '\'' (close, escaped quote, reopen).
    if (quote === "'" && text.startsWith("'\\''", i)) i += 3;
    // In a double-quoted (JSON) string a backslash escapes the next character; in a shell's single quotes it is literal.
    else if (c === '\\' && quote !== "'") i++;
    else if (c === quote && /^(?:[\s,;:)}\]]|$)/.test(text.slice(i + 1, i + 2))) return i;
  }
  return text.length;
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
