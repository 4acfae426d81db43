import { thresholdAtFpr } from '../../metrics/curve.js';
import { orderTypes } from '../compare.js';
import { SCHEMA } from './theme.js';
import type { FigureSpec, ReportRun } from './types.js';

/**
 * Severity bands of the built-in set's faults, as its generator draws them (drawSeverity in
 * src/data/synth/generate.ts: about a third in [0.08, 0.2), most in [0.2, 0.5), a quarter in
 * [0.5, 1]). A band is a range, not a generator setting, so a newer set with other draws still fits.
 */
export const SEVERITY_BANDS = [
  { name: 'subtle (< 0.2)', below: 0.2 },
  { name: 'medium (0.2–0.5)', below: 0.5 },
  { name: 'strong (≥ 0.5)', below: Number.POSITIVE_INFINITY },
] as const;

export const severityBand = (s: number): string => SEVERITY_BANDS.find((b) => s < b.below)!.name;

/** Anomalous test clips of one (type, fault kind, severity band) and how many the threshold flags. */
export interface FaultCell {
  type: string;
  fault: string;
  severity: string;
  clips: number;
  detected: number;
}

export interface FaultBreakdown {
  maxFpr: number;
  cells: FaultCell[];
  /** Per machine ID: the threshold used and the FPR it gives on that ID's normal clips. */
  thresholds: Array<{ type: string; id: string; threshold: number; fpr: number }>;
}

/**
 * Detection rate per fault kind and severity at a fixed false-positive rate. Scores of different
 * machine IDs are not on one scale (each is −log softmax of its own class), so as the metrics are
 * computed per ID, each ID gets its own threshold: the one flagging the most anomalies while
 * flagging at most `maxFpr` of that ID's normal clips (thresholdAtFpr).
 */
export function faultBreakdown(r: ReportRun, maxFpr: number): FaultBreakdown | null {
  if (!r.synth) return null;
  const byId = new Map<string, typeof r.scores>();
  for (const s of r.scores) {
    if (!Number.isFinite(s.score)) continue;
    const key = `${s.type}\u0000${s.id}`;
    byId.set(key, [...(byId.get(key) ?? []), s]);
  }
  const cells = new Map<string, FaultCell>();
  const thresholds: FaultBreakdown['thresholds'] = [];
  for (const clips of byId.values()) {
    const normals = clips.filter((c) => c.label === 0).map((c) => c.score);
    if (normals.length === 0) continue;
    const t = thresholdAtFpr(normals, maxFpr);
    thresholds.push({
      type: clips[0]!.type,
      id: clips[0]!.id,
      threshold: t,
      fpr: normals.filter((x) => x > t).length / normals.length,
    });
    for (const c of clips) {
      const m = r.synth.clips.get(c.path);
      if (c.label !== 1 || !m || m.fault === null || m.severity === null) continue;
      const severity = severityBand(m.severity);
      const key = `${c.type}\u0000${m.fault}\u0000${severity}`;
      const cell = cells.get(key) ?? { type: c.type, fault: m.fault, severity, clips: 0, detected: 0 };
      cell.clips++;
      if (c.score > t) cell.detected++;
      cells.set(key, cell);
    }
  }
  const types = orderTypes([...cells.values()].map((c) => c.type));
  const bandIndex = (s: string) => SEVERITY_BANDS.findIndex((b) => b.name === s);
  const sorted = [...cells.values()].sort(
    (a, b) =>
      types.indexOf(a.type) - types.indexOf(b.type) ||
      a.fault.localeCompare(b.fault) ||
      bandIndex(a.severity) - bandIndex(b.severity),
  );
  return { maxFpr, cells: sorted, thresholds };
}

const ALL_ROW = 'all types · all faults';

/** Heat map per run: rows = machine type and fault kind, columns = severity, cell = detected / clips. */
export function faultsFigure(prefix: string, items: Array<{ run: string; breakdown: FaultBreakdown }>): FigureSpec {
  const values = items.flatMap(({ run, breakdown }) =>
    breakdown.cells.map((c) => ({
      run,
      row: `${c.type} · ${c.fault}`,
      severity: c.severity,
      rate: c.detected / c.clips,
      text: `${c.detected}/${c.clips}`,
    })),
  );
  const totals = items.flatMap(({ run, breakdown }) =>
    SEVERITY_BANDS.flatMap((b) => {
      const cells = breakdown.cells.filter((c) => c.severity === b.name);
      const clips = cells.reduce((n, c) => n + c.clips, 0);
      const detected = cells.reduce((n, c) => n + c.detected, 0);
      return clips
        ? [{ run, row: ALL_ROW, severity: b.name, rate: detected / clips, text: `${detected}/${clips}` }]
        : [];
    }),
  );
  values.push(...totals);
  const rows = [...new Set(values.map((v) => v.row))];
  const maxFpr = items[0]?.breakdown.maxFpr ?? 0.1;
  return {
    name: `${prefix}faults`,
    title: `Detection per fault kind and severity at FPR = ${maxFpr}`,
    caption:
      `Built-in synthetic set only (its synth.json records each anomalous clip's fault and severity). A clip counts as detected when its score is ` +
      `above its machine ID's threshold at FPR = ${maxFpr} (the lowest threshold flagging at most ${maxFpr} of that ID's normal clips). ` +
      `Cells: share detected (colour) and detected/clips (text); small cells are noisy. Last row (${ALL_ROW}): every anomalous clip of that severity.`,
    spec: {
      $schema: SCHEMA,
      data: { values },
      facet: {
        column: {
          field: 'run',
          type: 'nominal',
          sort: items.map((i) => i.run),
          title: null,
          header: { labelFontSize: 12, labelFontWeight: 'bold' },
        },
      },
      spec: {
        width: 150,
        height: { step: 16 },
        encoding: {
          x: {
            field: 'severity',
            type: 'ordinal',
            sort: SEVERITY_BANDS.map((b) => b.name),
            title: 'fault severity',
            axis: { labelAngle: -30 },
          },
          y: {
            field: 'row',
            type: 'ordinal',
            sort: rows,
            title: 'machine type · fault kind',
            axis: { labelLimit: 260 },
          },
        },
        layer: [
          {
            mark: { type: 'rect' },
            encoding: {
              color: {
                field: 'rate',
                type: 'quantitative',
                scale: { scheme: 'viridis', domain: [0, 1] },
                title: 'detected',
                legend: { format: '.0%', orient: 'right' },
              },
            },
          },
          {
            mark: { type: 'text', fontSize: 9 },
            encoding: {
              text: { field: 'text' },
              color: { condition: { test: 'datum.rate > 0.6', value: 'black' }, value: 'white' },
            },
          },
        ],
      },
    },
  };
}
