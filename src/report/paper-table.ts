import type { ExperimentConfig } from '../config/schema.js';
import { ablationMarks, bestRow, statusCell, softTripleColumns, type TrialRow } from './rows.js';

/**
 * A sweep in the shape of the paper's tables: Table 3 (ablation: SpecNet / FGA / SoftTriple check
 * marks) when the trials differ in branches or in whether SoftTriple is on, else Table 4
 * (SoftTriple hyper-parameters). Ours in % with 2 decimals beside the paper's; the best row marked.
 */
export type TableShape = 'table3' | 'table4';

export function tableShape(configs: ExperimentConfig[]): TableShape {
  const key = (c: ExperimentConfig) => JSON.stringify(ablationMarks(c));
  return configs.some((c) => key(c) !== key(configs[0]!)) ? 'table3' : 'table4';
}

export interface PaperTable {
  shape: TableShape;
  header: string[];
  rows: string[][];
  best: number;
  /** Numeric form of every row, for json/csv (metrics in [0, 1], paper values in % as published). */
  records: Array<Record<string, unknown>>;
}

const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : (100 * x).toFixed(2);
const mark = (b: boolean): string => (b ? '✓' : '–');
const num = (x: number | null): string => (x === null ? '-' : String(x));

/** What a paper-shaped table of these rows shows (which table's shape) and the profiles its runs used. */
export function paperTableCaption(t: PaperTable, rows: TrialRow[]): string {
  const caption =
    t.shape === 'table3'
      ? "in the shape of the paper's Table 3 (ablation)"
      : "in the shape of the paper's Table 4 (SoftTriple hyper-parameters)";
  const profiles = [...new Set(rows.map((r) => r.run.profile ?? 'full'))].join(', ');
  return `${caption}; profile: ${profiles}`;
}

export function paperTable(rows: TrialRow[]): PaperTable {
  const shape = tableShape(rows.map((r) => r.run.config));
  const best = bestRow(rows);
  const lead = shape === 'table3' ? ['SpecNet', 'FGA', 'SoftTriple'] : ['γ', 'λ', 'δ', 'K', 'τ', 'λ_ST'];
  const header = ['', 'trial', ...lead, 'AUC', 'pAUC', 'pAUC (McClish)', 'paper AUC', 'paper pAUC', 'status'];
  const table = rows.map((r, i) => {
    const c = r.run.config;
    const cols =
      shape === 'table3'
        ? (({ specnet, fga, softtriple }) => [mark(specnet), mark(fga), mark(softtriple)])(ablationMarks(c))
        : Object.values(softTripleColumns(c)).map(num);
    return [
      i === best ? '★' : '',
      r.trial,
      ...cols,
      pct(r.average?.auc),
      pct(r.average?.pauc),
      pct(r.average?.paucMcclish),
      r.paper ? r.paper.auc.toFixed(2) : '-',
      r.paper ? r.paper.pauc.toFixed(2) : '-',
      statusCell(r),
    ];
  });
  const records = rows.map((r, i) => ({
    trial: r.trial,
    runId: r.run.id,
    status: r.run.status,
    stale: r.status === 'stale',
    rung: r.rung,
    profile: r.run.profile,
    best: i === best,
    ...(shape === 'table3' ? ablationMarks(r.run.config) : softTripleColumns(r.run.config)),
    auc: r.average?.auc ?? null,
    pauc: r.average?.pauc ?? null,
    paucMcclish: r.average?.paucMcclish ?? null,
    paper: r.paper,
    types: r.types,
    finalLoss: r.finalLoss,
    configHash: r.run.configHash,
  }));
  return { shape, header, rows: table, best, records };
}

export const PAUC_NOTE =
  "AUC and pAUC averaged over machine types, in %. pAUC = the paper's definition (partial area over FPR ≤ 0.1, divided by 0.1); " +
  "pAUC (McClish) = scikit-learn's roc_auc_score(max_fpr=0.1), which is how the paper's published numbers were computed, so compare that column with 'paper pAUC'. ★ = our best AUC.";
