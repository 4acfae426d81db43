import { averageRoc, rocCurve, type RocPoint } from '../../metrics/curve.js';
import type { MetricTriple } from '../../events/index.js';
import { orderTypes } from '../compare.js';
import { metricText, slug } from './format.js';
import { runColour, SCHEMA } from './theme.js';
import type { FigureSpec, ReportRun } from './types.js';

/** One run's ROC on one machine type. */
export interface RocSeries {
  /** The run's position in its group, which fixes its colour in every figure. */
  index: number;
  runId: string;
  run: string;
  /** The stored per-type metrics of the final evaluation (the legend's numbers). */
  metrics: MetricTriple | null;
  /** Vertical average of the type's per-ID curves; its area is the type's AUC (§3.1). */
  points: RocPoint[];
  /** IDs left out because their scores lack one class. */
  skippedIds: string[];
}

function byKey<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/** Per machine type, one curve per run from the final per-clip scores. */
export function rocByType(runs: ReportRun[]): Map<string, RocSeries[]> {
  const out = new Map<string, RocSeries[]>();
  for (const [index, r] of runs.entries()) {
    const types = byKey(
      r.scores.filter((s) => Number.isFinite(s.score)),
      (s) => s.type,
    );
    for (const [type, rows] of types) {
      const curves: RocPoint[][] = [];
      const skippedIds: string[] = [];
      for (const [id, clips] of [...byKey(rows, (s) => s.id)].sort(([a], [b]) => a.localeCompare(b))) {
        const both = clips.some((c) => c.label === 1) && clips.some((c) => c.label === 0);
        if (both)
          curves.push(
            rocCurve(
              clips.map((c) => c.label),
              clips.map((c) => c.score),
            ),
          );
        else skippedIds.push(id);
      }
      if (curves.length === 0) continue;
      const series: RocSeries = {
        index,
        runId: r.run.id,
        run: r.label,
        metrics: r.final?.types[type] ?? null,
        points: averageRoc(curves),
        skippedIds,
      };
      out.set(type, [...(out.get(type) ?? []), series]);
    }
  }
  return new Map(orderTypes(out.keys()).map((t) => [t, out.get(t)!]));
}

export function rocFigure(prefix: string, type: string, series: RocSeries[], maxFpr: number): FigureSpec {
  const names = series.map((s) => `${s.run}: ${metricText(s.metrics)}`);
  const values = series.flatMap((s, i) => s.points.map((p, k) => ({ series: names[i], k, fpr: p.fpr, tpr: p.tpr })));
  const skipped = series
    .filter((s) => s.skippedIds.length)
    .map((s) => `${s.run} skips ${s.skippedIds.join(', ')} (one class only)`);
  return {
    name: `${prefix}roc-${slug(type)}`,
    title: `ROC: ${type}`,
    caption:
      `Each run's curve is the vertical average of the type's per-ID ROC curves, so its area is the type's AUC as the tables average it ` +
      `(per machine ID, then the mean over IDs). Shaded: FPR ≤ ${maxFpr}, the region pAUC measures; dashed: chance.` +
      (skipped.length ? ` ${skipped.join('; ')}.` : ''),
    spec: {
      $schema: SCHEMA,
      title: { text: type, subtitle: 'final evaluation' },
      width: 320,
      height: 320,
      layer: [
        {
          data: { values: [{ x0: 0, x1: maxFpr }] },
          mark: { type: 'rect', color: '#000000', opacity: 0.08 },
          encoding: { x: { field: 'x0', type: 'quantitative', scale: { domain: [0, 1] } }, x2: { field: 'x1' } },
        },
        {
          data: { values: [{ x: 0, y: 1, t: `FPR ≤ ${maxFpr}` }] },
          mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 3, fontSize: 10, color: '#444' },
          encoding: {
            x: { field: 'x', type: 'quantitative' },
            y: { field: 'y', type: 'quantitative' },
            text: { field: 't' },
          },
        },
        {
          data: {
            values: [
              { x: 0, y: 0 },
              { x: 1, y: 1 },
            ],
          },
          mark: { type: 'line', strokeDash: [4, 4], color: '#888888', strokeWidth: 1 },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values },
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x: {
              field: 'fpr',
              type: 'quantitative',
              title: 'false-positive rate (normal clips flagged)',
              scale: { domain: [0, 1] },
            },
            y: {
              field: 'tpr',
              type: 'quantitative',
              title: 'true-positive rate (anomalies detected)',
              scale: { domain: [0, 1] },
            },
            color: {
              field: 'series',
              type: 'nominal',
              scale: { domain: names, range: series.map((s) => runColour(s.index)) },
              legend: { orient: 'bottom', direction: 'vertical', title: null },
            },
            order: { field: 'k', type: 'quantitative' },
          },
        },
      ],
    },
  };
}
