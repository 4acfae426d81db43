import type { Comparison, Triple } from './compare.js';
import { mdTable, textTable } from './text-table.js';
import { displayText } from '../util/names.js';

const pct = (x: number | null): string => (x === null ? '-' : (100 * x).toFixed(2));
const signed = (x: number | null): string => (x === null ? '-' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`);
const show = (v: unknown): string =>
  displayText(v === null || v === undefined ? 'null' : typeof v === 'string' ? v : JSON.stringify(v));

/** Colour a delta green when b is better (higher AUC / pAUC), red when worse; only when asked (a TTY). */
function delta(t: Triple, colour: boolean): string {
  const s = signed(t[2]);
  if (!colour || t[2] === null || t[2] === 0) return s;
  return t[2] > 0 ? `\x1b[32m${s}\x1b[39m` : `\x1b[31m${s}\x1b[39m`;
}

export function formatComparison(c: Comparison, opts: { md?: boolean; colour?: boolean } = {}): string {
  // Cells are escaped here (names, values, types come from the store): the text table keeps exp's own colours.
  const table = opts.md ? mdTable : (h: string[], r: string[][]) => textTable(h, r, { escape: false });
  const out: string[] = [];
  const note = (i: 0 | 1): string => {
    const r = c.rungs?.[i];
    if (r) return `; ${r.status} at epoch ${r.epoch}: ${r.reason}`;
    return c.status[i] === 'done' ? '' : `; ${c.status[i]}`;
  };
  const head = displayText(`a = ${c.a} (${c.names[0]}${note(0)}), b = ${c.b} (${c.names[1]}${note(1)})`);
  out.push(opts.md ? `**${head}**` : head, '');
  const keys = Object.keys(c.config);
  out.push(opts.md ? '### Config differences' : 'config differences');
  out.push(
    keys.length
      ? table(
          ['key', 'a', 'b'],
          keys.map((k) => [displayText(k), show(c.config[k]![0]), show(c.config[k]![1])]),
        )
      : '(none: same configuration)',
  );
  out.push('', opts.md ? '### Metrics (%)' : 'metrics (%)');
  const rows = Object.entries(c.metrics).map(([t, m]) => [
    displayText(t),
    pct(m.auc[0]),
    pct(m.auc[1]),
    delta(m.auc, opts.colour === true),
    pct(m.pauc[0]),
    pct(m.pauc[1]),
    delta(m.pauc, opts.colour === true),
    pct(m.paucMcclish[0]),
    pct(m.paucMcclish[1]),
    delta(m.paucMcclish, opts.colour === true),
  ]);
  out.push(
    table(['type', 'AUC a', 'AUC b', 'Δ', 'pAUC a', 'pAUC b', 'Δ', 'pAUC(McClish) a', 'pAUC(McClish) b', 'Δ'], rows),
  );
  const [la, lb] = c.losses.final;
  out.push('', `final training loss: a ${la?.toFixed(4) ?? '-'}, b ${lb?.toFixed(4) ?? '-'}`);
  out.push(`(Δ = b - a; pAUC = the paper's definition, pAUC(McClish) = scikit-learn's)`);
  return out.join('\n');
}
