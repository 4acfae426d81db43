import { PAPER_TYPES } from '../paper/table2.js';
import { bestRow, statusCell, type TrialRow } from './rows.js';

/**
 * A sweep in the shape of the paper's Table 2: one row per system and machine type columns, each
 * cell "AUC / pAUC" in %, ours (pAUC McClish, as the paper's numbers were computed) on one line
 * and the paper's below it. Chosen when the trials carry per-type paper values or are different
 * systems.
 */
export function isTable2(rows: TrialRow[]): boolean {
  return (
    rows.some((r) => r.paper?.types !== undefined) ||
    new Set(rows.map((r) => r.run.config.system ?? 'classifier')).size > 1
  );
}

const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : (100 * x).toFixed(2);
const paperPct = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));

/** Machine types in the paper's column order, then any others. */
export function table2Types(rows: TrialRow[]): string[] {
  const seen = new Set(rows.flatMap((r) => [...Object.keys(r.types), ...Object.keys(r.paper?.types ?? {})]));
  return [
    ...PAPER_TYPES.filter((t) => seen.has(t)),
    ...[...seen].filter((t) => !(PAPER_TYPES as readonly string[]).includes(t)).sort(),
  ];
}

export interface Table2 {
  header: string[];
  /** Two lines per trial: ours, then the paper's. */
  rows: string[][];
  /** Long form, one record per trial and type (metrics in [0, 1], paper values in % as published). */
  long: Array<{
    trial: string;
    type: string;
    auc: number | null;
    pauc: number | null;
    paucMcclish: number | null;
    paperAuc: number | null;
    paperPauc: number | null;
  }>;
  records: Array<Record<string, unknown>>;
}

export function table2(rows: TrialRow[]): Table2 {
  const types = table2Types(rows);
  const best = bestRow(rows);
  const header = ['', 'method', '', ...types, 'average', 'status'];
  const out: string[][] = [];
  const long: Table2['long'] = [];
  rows.forEach((r, i) => {
    const ours = (m: { auc: number; paucMcclish: number } | null | undefined) =>
      m ? `${pct(m.auc)} / ${pct(m.paucMcclish)}` : '-';
    const theirs = (p: { auc: number; pauc: number } | undefined) =>
      p ? `${paperPct(p.auc)} / ${paperPct(p.pauc)}` : '-';
    out.push([
      i === best ? '★' : '',
      r.trial,
      'ours',
      ...types.map((t) => ours(r.types[t])),
      ours(r.average),
      statusCell(r),
    ]);
    out.push(['', '', 'paper', ...types.map((t) => theirs(r.paper?.types?.[t])), theirs(r.paper ?? undefined), '']);
    for (const t of [...types, 'average']) {
      const m = t === 'average' ? r.average : r.types[t];
      const p = t === 'average' ? r.paper : r.paper?.types?.[t];
      long.push({
        trial: r.trial,
        type: t,
        auc: m?.auc ?? null,
        pauc: m?.pauc ?? null,
        paucMcclish: m?.paucMcclish ?? null,
        paperAuc: p?.auc ?? null,
        paperPauc: p?.pauc ?? null,
      });
    }
  });
  const records = rows.map((r, i) => ({
    trial: r.trial,
    runId: r.run.id,
    system: r.run.config.system ?? 'classifier',
    status: r.run.status,
    stale: r.status === 'stale',
    rung: r.rung,
    profile: r.run.profile,
    best: i === best,
    auc: r.average?.auc ?? null,
    pauc: r.average?.pauc ?? null,
    paucMcclish: r.average?.paucMcclish ?? null,
    types: r.types,
    paper: r.paper,
    finalLoss: r.finalLoss,
    configHash: r.run.configHash,
  }));
  return { header, rows: out, long, records };
}

export const TABLE2_NOTE =
  "Each cell: AUC / pAUC in %, ours on the first line, the paper's (Table 2) below. Our pAUC here is McClish's (scikit-learn's roc_auc_score(max_fpr=0.1)), " +
  "how the paper's numbers were computed; the paper-definition pAUC is in the csv / json export. ★ = our best average AUC.";
