import { orderTypes } from '../compare.js';
import { slug } from './format.js';
import { CLASS_COLOURS, SCHEMA } from './theme.js';
import type { FigureSpec, ReportRun } from './types.js';

/** Types that have final scores in any of the runs, in the paper's order. */
export function scoredTypes(runs: ReportRun[]): string[] {
  return orderTypes(runs.flatMap((r) => r.scores.map((s) => s.type)));
}

/**
 * Scores spread over decades (−log softmax near 0 for confident clips, tens for others) are binned
 * on a log axis, else almost every clip falls in the first bin.
 */
function logAxis(scores: number[]): boolean {
  const min = Math.min(...scores);
  return scores.length > 0 && min > 0 && Math.max(...scores) / min > 100;
}

/** Histograms of the final anomaly scores of one machine type, normal vs anomalous, one row per run. */
export function scoresFigure(prefix: string, type: string, runs: ReportRun[]): FigureSpec {
  const values = runs.flatMap((r) =>
    r.scores
      .filter((s) => s.type === type && Number.isFinite(s.score))
      .map((s) => ({ run: r.label, class: s.label === 1 ? 'anomalous' : 'normal', score: s.score })),
  );
  const order = runs.map((r) => r.label);
  const log = logAxis(values.map((v) => v.score));
  return {
    name: `${prefix}scores-${slug(type)}`,
    title: `Score distributions: ${type}`,
    caption:
      "Final anomaly scores (−log softmax of the clip's own machine ID, §3.1) of the type's test clips, all IDs together; " +
      'the less the two classes overlap, the higher the AUC. Bars overlap (no stacking); scores spanning several decades are binned on a log axis.',
    spec: {
      $schema: SCHEMA,
      title: { text: type, subtitle: 'final scores, all IDs' },
      data: { values },
      facet: {
        row: {
          field: 'run',
          type: 'nominal',
          sort: order,
          title: null,
          header: { labelAngle: 0, labelAlign: 'left', labelOrient: 'top', labelAnchor: 'start' },
        },
      },
      spec: {
        width: 320,
        height: 70,
        mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
        ...(log ? { transform: [{ calculate: 'log(datum.score) / LN10', as: 'log10score' }] } : {}),
        encoding: {
          x: log
            ? {
                field: 'log10score',
                type: 'quantitative',
                bin: { maxbins: 30 },
                title: 'anomaly score (log scale)',
                axis: { labelExpr: "format(pow(10, datum.value), '.2~g')" },
              }
            : { field: 'score', type: 'quantitative', bin: { maxbins: 30 }, title: 'anomaly score' },
          y: { aggregate: 'count', type: 'quantitative', stack: null, title: 'clips' },
          color: {
            field: 'class',
            type: 'nominal',
            scale: { domain: ['normal', 'anomalous'], range: [CLASS_COLOURS.normal, CLASS_COLOURS.anomalous] },
            legend: { orient: 'top', title: null },
          },
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}
