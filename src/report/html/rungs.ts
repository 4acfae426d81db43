import { SCHEMA } from './theme.js';
import type { FigureSpec, ReportGroup, ReportRun } from './types.js';
import { labelOf } from '../../sweep/search/summary.js';

interface Point {
  epoch: number;
  trial: string;
  value: number;
  pruned: boolean;
}

/** The objective of one run per epoch: its validation / training loss, or its evalEvery test metric. */
function objectivePoints(r: ReportRun, metric: string, pruned: boolean): Point[] {
  const at = (epoch: number, value: number | null | undefined): Point[] =>
    typeof value === 'number' && Number.isFinite(value) ? [{ epoch, trial: r.label, value, pruned }] : [];
  if (metric === 'valLoss') return r.epochs.flatMap((e) => at(e.epoch, e.valLoss));
  if (metric === 'valAcc') return r.epochs.flatMap((e) => at(e.epoch, e.valAcc));
  if (metric === 'loss') return r.epochs.flatMap((e) => at(e.epoch, e.loss));
  return r.evals.flatMap((s) => at(s.epoch, s.average ? s.average[metric as 'auc' | 'pauc' | 'paucMcclish'] : null));
}

/**
 * The rung chart of an adaptive sweep: the objective against epochs for every trial, the pruned
 * ones in grey, with a vertical rule at each rung. Null for other sweeps.
 */
export function rungsFigure(prefix: string, g: ReportGroup): FigureSpec | null {
  const a = g.adaptive;
  if (!a) return null;
  const stopped = new Set(a.table.decisions.filter((d) => d.action === 'stop').map((d) => d.unitName));
  const points = g.runs.flatMap((r) =>
    objectivePoints(r, a.info.metric, stopped.has(labelOf(r.run.trial ?? r.run.name))),
  );
  const rungs = a.info.rungs.map((epoch) => ({ epoch }));
  return {
    name: `${prefix}rungs`,
    title: `Rungs: ${a.info.metric} per epoch, ${g.title}`,
    caption: `${a.info.method} on ${a.info.metric} (${a.info.mode === 'min' ? 'lower' : 'higher'} is better); grey: configurations stopped at a rung (pruned); vertical lines: the rungs (epochs ${a.info.rungs.join(', ')}).`,
    spec: {
      $schema: SCHEMA,
      width: 520,
      height: 260,
      layer: [
        {
          data: { values: rungs },
          mark: { type: 'rule', color: '#999', strokeDash: [4, 4] },
          encoding: { x: { field: 'epoch', type: 'quantitative' } },
        },
        {
          data: { values: points },
          mark: { type: 'line', point: true, strokeWidth: 1.5 },
          encoding: {
            x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
            y: { field: 'value', type: 'quantitative', title: a.info.metric, scale: { zero: false } },
            detail: { field: 'trial', type: 'nominal' },
            color: {
              condition: { test: 'datum.pruned', value: '#bdbdbd' },
              field: 'trial',
              type: 'nominal',
              legend: { orient: 'bottom', columns: 2, title: null },
            },
            opacity: { condition: { test: 'datum.pruned', value: 0.6 }, value: 1 },
          },
        },
      ],
    },
  };
}
