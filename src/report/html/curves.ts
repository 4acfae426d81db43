import type { TopLevelSpec } from 'vega-lite';
import { slug } from './format.js';
import { SCHEMA } from './theme.js';
import type { FigureSpec, ReportRun } from './types.js';

interface Point {
  epoch: number;
  series: string;
  value: number;
}

const finite = (p: { value: number | null | undefined }): p is Point =>
  typeof p.value === 'number' && Number.isFinite(p.value);

/** Total loss, each term and the validation loss per epoch. */
export function lossPoints(r: ReportRun): Point[] {
  return r.epochs
    .flatMap((e) => [
      { epoch: e.epoch, series: 'loss (total)', value: e.loss },
      ...Object.entries(e.terms).map(([term, value]) => ({ epoch: e.epoch, series: `term: ${term}`, value })),
      { epoch: e.epoch, series: 'validation loss', value: e.valLoss },
    ])
    .filter(finite);
}

/** Average AUC / pAUC in % of every train.evalEvery evaluation. */
export function evalPoints(r: ReportRun): Point[] {
  return r.evals
    .flatMap((s) =>
      s.average
        ? [
            { epoch: s.epoch, series: 'AUC', value: 100 * s.average.auc },
            { epoch: s.epoch, series: 'pAUC', value: 100 * s.average.pauc },
            { epoch: s.epoch, series: 'pAUC (McClish)', value: 100 * s.average.paucMcclish },
          ]
        : [],
    )
    .filter(finite);
}

function seriesOrder(points: Point[]): string[] {
  const names = [...new Set(points.map((p) => p.series))];
  return [...names.filter((n) => n !== 'loss (total)'), ...names.filter((n) => n === 'loss (total)')];
}

function linePanel(
  title: string,
  yTitle: string,
  points: Point[],
  opts: { log?: boolean } = {},
): Record<string, unknown> {
  return {
    title,
    width: 250,
    height: 180,
    data: { values: points },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: opts.log ? { type: 'log' } : { zero: false } },
      // Drawn in domain order: the total last, so it stays visible where it equals a term.
      color: {
        field: 'series',
        type: 'nominal',
        sort: seriesOrder(points),
        legend: { orient: 'bottom', direction: 'vertical', title: null },
      },
      // The total is often one of the terms (SoftTriple off): dashed, it stays visible on top.
      strokeDash: { condition: { test: "datum.series === 'loss (total)'", value: [6, 4] }, value: [1, 0] },
    },
  };
}

function emptyPanel(title: string, text: string): Record<string, unknown> {
  return {
    title,
    width: 250,
    height: 180,
    data: { values: [{ text }] },
    mark: { type: 'text', fontSize: 11, color: '#555' },
    encoding: { text: { field: 'text' } },
  };
}

/** One run's learning curves: losses, learning rate, and the evalEvery AUCs when recorded. */
export function curvesFigure(prefix: string, r: ReportRun): FigureSpec {
  const lr = r.epochs.map((e) => ({ epoch: e.epoch, series: 'learning rate', value: e.lr })).filter(finite);
  const evals = evalPoints(r);
  const losses = lossPoints(r);
  const panels = [
    losses.length ? linePanel('losses', 'loss', losses) : emptyPanel('losses', 'no epochs recorded'),
    lr.length
      ? linePanel('learning rate', 'learning rate', lr, { log: lr.every((p) => p.value > 0) })
      : emptyPanel('learning rate', 'not recorded'),
    evals.length
      ? linePanel('test AUC during training', '% (average over types)', evals)
      : emptyPanel('test AUC during training', 'not recorded (set train.evalEvery)'),
  ];
  return {
    name: `${prefix}curves-${slug(r.label)}`,
    title: `Learning curves: ${r.label}`,
    caption:
      'Per epoch: the training loss and each of its terms (batch-weighted means), the validation loss when train.valSplit holds clips out, ' +
      'the learning rate, and the test-set AUC of every train.evalEvery evaluation (never used to choose the checkpoint).',
    spec: {
      $schema: SCHEMA,
      title: { text: r.label, subtitle: `run ${r.run.id}` },
      hconcat: panels,
      resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    } as unknown as TopLevelSpec,
  };
}
