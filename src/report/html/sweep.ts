import { paperTable, paperTableCaption, PAUC_NOTE } from '../paper-table.js';
import { codeVersionNote, seedGroups, seedTable, type TrialRow } from '../rows.js';
import { escapeHtml, slug } from './format.js';
import { PALETTE, SCHEMA } from './theme.js';
import type { FigureSpec, ReportGroup } from './types.js';
import { displayName } from '../../util/names.js';
import { shownStatus } from '../../store/stale.js';

/** An HTML table; the columns named in `numeric` are right-aligned numbers. */
export function htmlTable(
  header: string[],
  rows: string[][],
  opts: { numeric?: string[]; className?: string; highlight?: number } = {},
): string {
  const numeric = new Set(opts.numeric ?? []);
  const cell = (tag: 'th' | 'td', c: string, i: number) =>
    `<${tag}${numeric.has(header[i]!) ? ' class="num"' : ''}>${escapeHtml(c)}</${tag}>`;
  const body = rows.map(
    (r, k) => `<tr${k === opts.highlight ? ' class="best"' : ''}>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`,
  );
  return `<table class="${opts.className ?? 'data'}"><thead><tr>${header.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

const METRIC_COLUMNS = ['AUC', 'pAUC', 'pAUC (McClish)', 'pAUC(McClish)', 'paper AUC', 'paper pAUC'];

/** The sweep in the paper's table shape (Table 3 or 4), ours beside the paper's, plus the over-seeds table. */
export function sweepTablesHtml(g: ReportGroup): string {
  const t = paperTable(g.rows);
  const parts = [
    `<p class="caption">${escapeHtml(paperTableCaption(t, g.rows))}</p>`,
    htmlTable(t.header, t.rows, { numeric: METRIC_COLUMNS, highlight: t.best }),
  ];
  parts.push(`<p class="note">${escapeHtml(PAUC_NOTE)}</p>`);
  const note = codeVersionNote(g.rows, g.sweep);
  if (note) parts.push(`<p class="warn">${escapeHtml(note)}</p>`);
  const seeds = seedGroups(g.rows);
  if (seeds) {
    const st = seedTable(seeds);
    parts.push(
      '<p class="caption">Over seeds: mean ± sample sd of the per-run averages, in %.</p>',
      htmlTable(st.header, st.rows, { numeric: METRIC_COLUMNS }),
    );
  }
  return parts.join('\n');
}

/**
 * Ours vs the paper per configuration: every run's average as a point (one per seed), the mean
 * ± sample sd over seeds as a bar when there are several, the paper's value as a black diamond.
 */
export function seedsFigure(prefix: string, g: ReportGroup): FigureSpec {
  const done = g.rows.filter((r) => r.run.status === 'done' && r.average);
  const config = (r: TrialRow) => displayName(r.trial.replace(/\/seed=\d+$/, ''));
  const order = [...new Set(g.rows.map(config))];
  const metrics = [
    { name: 'AUC', ours: (r: TrialRow) => r.average!.auc, paper: (r: TrialRow) => r.paper?.auc },
    { name: 'pAUC (McClish)', ours: (r: TrialRow) => r.average!.paucMcclish, paper: (r: TrialRow) => r.paper?.pauc },
  ];
  const points = done.flatMap((r) =>
    metrics.map((m) => ({
      config: config(r),
      metric: m.name,
      value: 100 * m.ours(r),
      seed: r.run.config.seed,
      kind: 'ours: one run',
    })),
  );
  const paper = order.flatMap((c) => {
    const r = g.rows.find((x) => config(x) === c);
    return r
      ? metrics.flatMap((m) =>
          m.paper(r) === undefined ? [] : [{ config: c, metric: m.name, value: m.paper(r)!, kind: 'paper' }],
        )
      : [];
  });
  const groups = seedGroups(g.rows) ?? [];
  const spread = groups.flatMap((s) =>
    Number.isNaN(s.auc.sd)
      ? []
      : [
          {
            config: s.trial,
            metric: 'AUC',
            lo: 100 * (s.auc.mean - s.auc.sd),
            hi: 100 * (s.auc.mean + s.auc.sd),
            mean: 100 * s.auc.mean,
            kind: 'ours: mean ± sd',
          },
          {
            config: s.trial,
            metric: 'pAUC (McClish)',
            lo: 100 * (s.paucMcclish.mean - s.paucMcclish.sd),
            hi: 100 * (s.paucMcclish.mean + s.paucMcclish.sd),
            mean: 100 * s.paucMcclish.mean,
            kind: 'ours: mean ± sd',
          },
        ],
  );
  const kinds = spread.length ? ['ours: one run', 'ours: mean ± sd', 'paper'] : ['ours: one run', 'paper'];
  const range = spread.length ? [PALETTE[0]!, PALETTE[5]!, '#000000'] : [PALETTE[0]!, '#000000'];
  const colour = {
    field: 'kind',
    type: 'nominal',
    scale: { domain: kinds, range },
    legend: { orient: 'top', title: null, symbolOpacity: 1 },
  } as const;
  const y = { field: 'config', type: 'nominal', sort: order, title: null } as const;
  return {
    name: `${prefix}seeds`,
    title: `Ours vs the paper: ${g.title}`,
    caption:
      'Average over machine types in %. Circles: each finished run (one per seed); bar and tick: mean ± sample sd over seeds (shown when a configuration ran ' +
      "with several seeds, exp sweep --seeds); diamonds: the paper's value. The paper's pAUC is McClish's (scikit-learn's), so it sits beside ours of that kind.",
    spec: {
      $schema: SCHEMA,
      facet: {
        column: {
          field: 'metric',
          type: 'nominal',
          title: null,
          sort: metrics.map((m) => m.name),
          header: { labelFontSize: 12, labelFontWeight: 'bold' },
        },
      },
      data: { values: [...points, ...paper, ...spread] },
      spec: {
        width: 300,
        height: { step: 26 },
        layer: [
          {
            transform: [{ filter: "datum.kind === 'ours: mean ± sd'" }],
            mark: { type: 'rule', strokeWidth: 3, opacity: 0.7 },
            encoding: {
              y,
              x: {
                field: 'lo',
                type: 'quantitative',
                title: '% (average over machine types)',
                scale: { zero: false, nice: true, padding: 12 },
              },
              x2: { field: 'hi' },
              color: colour,
            },
          },
          {
            transform: [{ filter: "datum.kind === 'ours: mean ± sd'" }],
            mark: { type: 'tick', thickness: 2, size: 16 },
            encoding: { y, x: { field: 'mean', type: 'quantitative' }, color: colour },
          },
          {
            transform: [{ filter: "datum.kind === 'ours: one run'" }],
            mark: { type: 'point', filled: true, size: 50, opacity: 0.85 },
            encoding: { y, x: { field: 'value', type: 'quantitative' }, color: colour },
          },
          {
            transform: [{ filter: "datum.kind === 'paper'" }],
            mark: { type: 'point', shape: 'diamond', filled: true, size: 90 },
            encoding: { y, x: { field: 'value', type: 'quantitative' }, color: colour },
          },
        ],
      },
    },
  };
}

/** Where every number came from: code version, exact configuration, backend and kernel build. */
export function provenanceHtml(g: ReportGroup): string {
  const header = [
    'trial / run',
    'run id',
    'status',
    'seed',
    'profile',
    'git commit',
    'config hash',
    'backend',
    'threads',
    'SIMD build',
    'host',
    'finished',
  ];
  const rows = g.runs.map(({ run, label }) => [
    label,
    run.id,
    // A pruned run's stored error says at which rung and why.
    run.status === 'pruned' && run.error ? run.error : shownStatus(run),
    String(run.seed),
    run.profile ?? '-',
    run.gitCommit ? `${run.gitCommit.slice(0, 12)}${run.gitDirty ? ' +changes' : ''}` : 'unknown',
    run.configHash,
    run.backend ?? '-',
    run.threads === null ? '-' : String(run.threads),
    typeof run.info?.['simdKernels'] === 'string'
      ? run.info['simdKernels']
      : run.backend === 'wasm'
        ? 'not recorded'
        : 'n/a',
    run.host,
    run.finishedAt ?? '-',
  ]);
  return htmlTable(header, rows, { numeric: ['seed', 'threads'], className: 'data provenance' });
}

export const groupPrefix = (g: ReportGroup): string => (g.sweep ? `${slug(g.sweep)}-` : 'runs-');
