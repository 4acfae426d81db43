import type { RunReader } from '../store/run-store.js';
import { pct } from '../util/format.js';
import { bestRow, statusCell, codeVersionNote, seedGroups, seedTable, sweepRows, type TrialRow } from './rows.js';
import { textTable } from './text-table.js';

/** The end-of-sweep summary on the terminal: one row per trial, ours beside the paper's. */
export async function formatSweepTable(
  store: RunReader,
  sweep: string,
  opts: { runIds?: Array<string | null> } = {},
): Promise<string> {
  const rows = await sweepRows(store, sweep, opts);
  const best = bestRow(rows);
  const body = rows.map((r, i) => [
    `${i === best ? '* ' : '  '}${r.trial}`,
    statusCell(r),
    pct(r.average?.auc),
    pct(r.average?.pauc),
    pct(r.average?.paucMcclish),
    r.paper ? r.paper.auc.toFixed(2) : '-',
    r.paper ? r.paper.pauc.toFixed(2) : '-',
    r.run.id,
  ]);
  const note = codeVersionNote(rows, sweep);
  return [
    textTable(['  trial', 'status', 'AUC', 'pAUC', 'pAUC(McClish)', 'paper AUC', 'paper pAUC', 'run'], body),
    `(* best AUC; averages over machine types in %; pAUC = the paper's definition, pAUC(McClish) = scikit-learn's, which the paper's numbers use)`,
    ...(note ? [note] : []),
    ...overSeeds(rows),
  ].join('\n');
}

/** With `--seeds`: mean ± sd over the seeds of each configuration, below the per-run table. */
function overSeeds(rows: TrialRow[]): string[] {
  const groups = seedGroups(rows);
  if (!groups) return [];
  const t = seedTable(groups);
  return ['', 'over seeds (mean ± sample sd of the per-run averages, in %):', textTable(t.header, t.rows)];
}
