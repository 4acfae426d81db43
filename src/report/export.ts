import type { RunReader } from '../store/run-store.js';
import { UserError } from '../util/errors.js';
import { barChartSvg } from './chart.js';
import { paperTable, paperTableCaption, PAUC_NOTE } from './paper-table.js';
import { codeVersionNote, seedGroups, seedTable, sweepRows, trialRow, type TrialRow } from './rows.js';
import { csv, mdTable } from './text-table.js';
import { isTable2, table2, TABLE2_NOTE } from './table2-shape.js';
import { adaptiveRecord, testSelectionNote } from './adaptive.js';

export type ExportFormat = 'md' | 'csv' | 'json';

export interface ExportGroup {
  title: string;
  sweep: string | null;
  rows: TrialRow[];
  /** Set when the sweep chose its configurations on a test-set metric (allowTestSelection). */
  warning?: string;
}

/** Each argument is a sweep name (all its trials) or a run reference; loose runs are grouped together. */
export async function exportGroups(store: RunReader, refs: string[]): Promise<ExportGroup[]> {
  const groups: ExportGroup[] = [];
  const loose: TrialRow[] = [];
  for (const ref of refs) {
    if (await store.sweepExists(ref)) {
      const warning = testSelectionNote(await adaptiveRecord(store, ref));
      groups.push({
        title: `sweep ${ref}`,
        sweep: ref,
        rows: await sweepRows(store, ref),
        ...(warning ? { warning } : {}),
      });
    } else loose.push(await trialRow(store, await store.resolveRun(ref)));
  }
  if (loose.length) groups.push({ title: 'runs', sweep: null, rows: loose.map((r) => ({ ...r, trial: r.run.name })) });
  if (groups.length === 0) throw new UserError('exp export: name at least one sweep or run');
  return groups;
}

export function renderExport(groups: ExportGroup[], format: ExportFormat): string {
  if (format === 'json') {
    return (
      JSON.stringify(
        groups.map((g) => {
          if (isTable2(g.rows)) return { sweep: g.sweep, shape: 'table2', rows: table2(g.rows).records };
          const t = paperTable(g.rows);
          const seeds = seedGroups(g.rows);
          // overSeeds only with --seeds runs: fractions (not %); one seed's sd (NaN) prints as null.
          return {
            sweep: g.sweep,
            shape: t.shape,
            rows: t.records,
            ...(seeds ? { overSeeds: seeds } : {}),
            ...(g.warning ? { testSelection: true, warning: g.warning } : {}),
          };
        }),
        null,
        2,
      ) + '\n'
    );
  }
  if (format === 'csv') {
    const out: string[] = [];
    for (const g of groups) {
      if (isTable2(g.rows)) {
        const t = table2(g.rows);
        const n = (x: number | null) => (x === null ? '' : x);
        out.push(
          csv(
            ['sweep', 'trial', 'type', 'auc', 'pauc', 'paucMcclish', 'paperAuc', 'paperPauc'],
            t.long.map((r) => [
              g.sweep ?? '',
              r.trial,
              r.type,
              n(r.auc),
              n(r.pauc),
              n(r.paucMcclish),
              n(r.paperAuc),
              n(r.paperPauc),
            ]),
          ),
        );
        continue;
      }
      const t = paperTable(g.rows);
      out.push(
        csv(
          ['sweep', ...t.header.slice(1), 'best'],
          t.rows.map((r, i) => [g.sweep ?? '', ...r.slice(1), i === t.best ? 1 : 0]),
        ),
      );
    }
    return out.join('\n');
  }
  const out: string[] = [];
  for (const g of groups) {
    if (isTable2(g.rows)) {
      const t = table2(g.rows);
      const profiles = [...new Set(g.rows.map((r) => r.run.profile ?? 'full'))].join(', ');
      out.push(
        `## ${g.title}`,
        '',
        `in the shape of the paper's Table 2 (machine types x AUC / pAUC); profile: ${profiles}`,
        '',
      );
      out.push(
        mdTable(
          t.header,
          t.rows,
          t.header.map((_, i) => (i < 3 ? 'l' : 'r')),
        ),
        '',
        TABLE2_NOTE,
        '',
      );
      const note = codeVersionNote(g.rows, g.sweep);
      if (note) out.push(note, '');
      continue;
    }
    const t = paperTable(g.rows);
    out.push(`## ${g.title}`, '', paperTableCaption(t, g.rows), '');
    if (g.warning) out.push(`**${g.warning}**`, '');
    out.push(
      mdTable(
        t.header,
        t.rows,
        t.header.map((_, i) => (i < 2 ? 'l' : i < t.header.length - 6 ? 'c' : 'r')),
      ),
    );
    const note = codeVersionNote(g.rows, g.sweep);
    out.push('', PAUC_NOTE, '', ...(note ? [note, ''] : []));
    const seeds = seedGroups(g.rows);
    if (seeds) {
      const st = seedTable(seeds);
      out.push(
        'Over seeds: mean ± sample sd of the per-run averages, in %.',
        '',
        mdTable(
          st.header,
          st.rows,
          st.header.map((_, i) => (i < 2 ? 'l' : 'r')),
        ),
        '',
      );
    }
  }
  return out.join('\n');
}

export function renderChart(groups: ExportGroup[]): string {
  const rows = groups.flatMap((g) => g.rows);
  const title = groups.map((g) => g.title).join(', ') + ': ours vs the paper';
  return barChartSvg(rows, title);
}
