import { diffKeys, valueAt } from './flatten.js';
import { bestRow, type TrialRow } from './rows.js';
import { orderTypes } from './compare.js';
import { mdTable, textTable } from './text-table.js';

const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : (100 * x).toFixed(2);
const show = (v: unknown): string =>
  v === null || v === undefined ? 'null' : typeof v === 'string' ? v : JSON.stringify(v);

/** All trials of a sweep side by side: the config keys that vary, per-type AUC, the average, the final loss. */
export function formatSweepComparison(rows: TrialRow[], opts: { json: boolean; md: boolean; colour: boolean }): string {
  const keys = diffKeys(rows.map((r) => r.run.config));
  const types = orderTypes(rows.flatMap((r) => Object.keys(r.types)));
  if (opts.json) {
    return JSON.stringify(
      {
        trials: rows.map((r) => ({
          trial: r.trial,
          id: r.run.id,
          status: r.run.status,
          stale: r.status === 'stale',
          rung: r.rung,
          config: Object.fromEntries(keys.map((k) => [k, valueAt(r.run.config, k)])),
          metrics: { ...r.types, ...(r.average ? { average: r.average } : {}) },
          finalLoss: r.finalLoss,
          paper: r.paper,
        })),
      },
      null,
      2,
    );
  }
  const best = bestRow(rows);
  const header = [
    'trial',
    ...keys,
    ...types.map((t) => `${t} AUC`),
    'avg AUC',
    'avg pAUC',
    'avg pAUC(McClish)',
    'final loss',
  ];
  const body = rows.map((r, i) => {
    const cells = [
      r.status === 'stale' ? `${r.trial} (stale)` : r.trial,
      ...keys.map((k) => show(valueAt(r.run.config, k))),
      ...types.map((t) => pct(r.types[t]?.auc)),
      pct(r.average?.auc),
      pct(r.average?.pauc),
      pct(r.average?.paucMcclish),
      r.finalLoss?.toFixed(4) ?? '-',
    ];
    if (i === best) cells[0] = `${cells[0]} ★`;
    return cells;
  });
  const table = opts.md ? mdTable(header, body) : textTable(header, body);
  const coloured =
    opts.colour && best >= 0
      ? table.replace(`${rows[best]!.trial} ★`, `\x1b[32m${rows[best]!.trial} ★\x1b[39m`)
      : table;
  return `${coloured}\n(★ best average AUC; metrics in %)`;
}
