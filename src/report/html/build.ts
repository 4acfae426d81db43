import { createRequire } from 'node:module';
import { curvesFigure } from './curves.js';
import { rungsFigure } from './rungs.js';
import { testSelectionNote } from '../adaptive.js';
import { faultBreakdown, faultsFigure, type FaultBreakdown } from './faults.js';
import { escapeHtml, slug } from './format.js';
import { figureHtml, pageHtml, type Section } from './page.js';
import { specToSvg } from './render.js';
import { rocByType, rocFigure, type RocSeries } from './roc.js';
import { scoredTypes, scoresFigure } from './scores.js';
import { groupPrefix, provenanceHtml, seedsFigure, sweepTablesHtml } from './sweep.js';
import type { FigureSpec, ReportGroup, ReportInput } from './types.js';
import { UniqueNames } from './unique.js';

const require = createRequire(import.meta.url);
const { version } = require('../../../package.json') as { version: string };

export interface RenderedFigure {
  name: string;
  title: string;
  caption: string;
  svg: string;
}

/** What the report shows as numbers, also embedded in the HTML as JSON (id exp-report-data). */
export interface ReportData {
  groups: Array<{
    title: string;
    sweep: string | null;
    maxFpr: number;
    roc: Record<string, RocSeries[]>;
    faults: Array<{ runId: string; run: string; breakdown: FaultBreakdown }>;
  }>;
}

export interface Report {
  html: string;
  figures: RenderedFigure[];
  data: ReportData;
}

/**
 * A figure's name is its --png file name and (as fig-<name>) its element id, so it is claimed
 * from the same pool as the section ids: unique across the whole report.
 */
async function render(spec: FigureSpec, names: UniqueNames): Promise<RenderedFigure> {
  const name = names.claim(`fig-${spec.name}`).slice('fig-'.length);
  return { name, title: spec.title, caption: spec.caption, svg: await specToSvg(spec.spec) };
}

/** pAUC's p of the group's runs (§3.1: 0.1); the first run's when they differ (the caption says so). */
function groupMaxFpr(g: ReportGroup): { maxFpr: number; note: string | null } {
  const ps = [...new Set(g.runs.map((r) => r.run.config.eval.maxFpr))];
  return {
    maxFpr: ps[0] ?? 0.1,
    note: ps.length > 1 ? `runs use different eval.maxFpr (${ps.join(', ')}); figures use ${ps[0]}` : null,
  };
}

async function groupSections(
  g: ReportGroup,
  figures: RenderedFigure[],
  names: UniqueNames,
): Promise<{ sections: Section[]; data: ReportData['groups'][number] }> {
  const prefix = groupPrefix(g);
  const id = (s: string) => names.claim(`${prefix}${slug(s)}`);
  const { maxFpr, note } = groupMaxFpr(g);
  const add = async (spec: FigureSpec, wide = false): Promise<string> => {
    const f = await render(spec, names);
    figures.push(f);
    return figureHtml(f, wide);
  };
  const sections: Section[] = [
    { id: id('group'), title: g.title, level: 2, html: note ? `<p class="warn">${escapeHtml(note)}</p>` : '' },
  ];
  if (g.sweep) {
    const warning = testSelectionNote(g.adaptive ?? null);
    const banner = warning ? `<p class="warn">${escapeHtml(warning)}</p>\n` : '';
    sections.push({
      id: id('results'),
      title: `${g.title}: results`,
      level: 3,
      html: `${banner}${sweepTablesHtml(g)}\n<div class="grid">${await add(seedsFigure(prefix, g), true)}</div>`,
    });
    const rungs = rungsFigure(prefix, g);
    if (rungs)
      sections.push({
        id: id('rungs'),
        title: `${g.title}: rungs (pruning)`,
        level: 3,
        html: `<div class="grid">${await add(rungs, true)}</div>`,
      });
  }
  const each = async <T>(items: T[], f: (t: T) => FigureSpec, wide = false): Promise<string[]> => {
    const out: string[] = [];
    for (const it of items) out.push(await add(f(it), wide)); // in order, so figures and --png files are stable
    return out;
  };
  const roc = rocByType(g.runs);
  const rocFigs = await each([...roc], ([type, series]) => rocFigure(prefix, type, series, maxFpr));
  sections.push({
    id: id('roc'),
    title: `${g.title}: ROC curves per machine type`,
    level: 3,
    html: rocFigs.length
      ? `<div class="grid">${rocFigs.join('\n')}</div>`
      : '<p class="note">No final per-clip scores stored.</p>',
  });
  const scoreFigs = await each(scoredTypes(g.runs), (t) => scoresFigure(prefix, t, g.runs));
  sections.push({
    id: id('scores'),
    title: `${g.title}: score distributions, normal vs anomalous`,
    level: 3,
    html: `<div class="grid">${scoreFigs.join('\n')}</div>`,
  });
  const curveFigs = await each(g.runs, (r) => curvesFigure(prefix, r), true);
  sections.push({
    id: id('curves'),
    title: `${g.title}: learning curves`,
    level: 3,
    html: `<div class="grid">${curveFigs.join('\n')}</div>`,
  });
  const faults = g.runs.flatMap((r) => {
    const b = faultBreakdown(r, maxFpr);
    return b && b.cells.length ? [{ runId: r.run.id, run: r.label, breakdown: b }] : [];
  });
  const missing = g.runs.filter((r) => r.synthNote).map((r) => `${r.label}: ${r.synthNote}`);
  sections.push({
    id: id('faults'),
    title: `${g.title}: detection per fault kind and severity`,
    level: 3,
    html: [
      faults.length
        ? `<div class="grid">${await add(
            faultsFigure(
              prefix,
              faults.map((f) => ({ run: f.run, breakdown: f.breakdown })),
            ),
            true,
          )}</div>`
        : '',
      ...missing.map((m) => `<p class="note">${escapeHtml(m)}</p>`),
    ].join('\n'),
  });
  sections.push({ id: id('provenance'), title: `${g.title}: provenance`, level: 3, html: provenanceHtml(g) });
  return { sections, data: { title: g.title, sweep: g.sweep, maxFpr, roc: Object.fromEntries(roc), faults } };
}

/** The whole report: one self-contained HTML page (inline SVG, inline CSS, no scripts run) and its figures. */
export async function buildReport(input: ReportInput, opts: { now?: Date } = {}): Promise<Report> {
  const figures: RenderedFigure[] = [];
  const sections: Section[] = [];
  const data: ReportData = { groups: [] };
  const names = new UniqueNames();
  for (const g of input.groups) {
    const built = await groupSections(g, figures, names);
    sections.push(...built.sections);
    data.groups.push(built.data);
  }
  const html = pageHtml({
    title: `exp report: ${input.refs.join(', ')}`,
    meta: [
      `exp ${version}; store ${input.db}; generated ${(opts.now ?? new Date()).toISOString()}.`,
      "Metrics in % (AUC, the paper's pAUC and scikit-learn's McClish pAUC, §3.1), per machine ID then averaged over IDs and types, as in the paper's tables.",
    ],
    sections,
    data,
  });
  return { html, figures, data };
}
