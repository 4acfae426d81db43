import { displayText } from '../util/names.js';

/**
 * Plain aligned text table (first column left, the rest right-aligned). Cells hold names from the
 * store, so every control character is shown escaped; a caller that colours its own cells (ANSI
 * sequences exp writes) passes `escape: false` and escapes the text it takes from the store itself.
 */
export function textTable(header: string[], rawRows: string[][], opts: { escape?: boolean } = {}): string {
  const rows = opts.escape === false ? rawRows : rawRows.map((r) => r.map((c) => displayText(c)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** GitHub-flavoured markdown table. */
export function mdTable(header: string[], rows: string[][], align: Array<'l' | 'r' | 'c'> = []): string {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : align[i] === 'c' ? ':---:' : '---'));
  const esc = (s: string) => displayText(s).replace(/\|/g, '\\|');
  return [header, sep, ...rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}

/** CSV with quoting where needed. */
export function csv(header: string[], rows: Array<Array<string | number | null>>): string {
  const cell = (v: string | number | null) => {
    const s = v === null ? '' : displayText(String(v));
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
