import { UserError } from '../util/errors.js';
import { rocMetrics } from './roc.js';

/** One scored test clip. label 1 = anomaly. */
export interface ScoreRow {
  type: string;
  id: string;
  label: number;
  score: number;
}

/** AUC, the paper's pAUC and scikit-learn's (McClish) pAUC, each in [0, 1]. */
export interface MetricValues {
  auc: number;
  pauc: number;
  paucMcclish: number;
}

export interface EvaluateOptions {
  /** pAUC's p (§3.1: 0.1). */
  maxFpr?: number;
  /**
   * false (default): per machine ID, then the mean over a type's IDs (DCASE 2020 evaluator,
   * STgram-MFN). true: all IDs of a type pooled into one ROC (TASTgram's eval).
   */
  pooled?: boolean;
}

/** The `exp metrics --json` shape (docs/cli.md), plus per-ID values and counts. */
export interface Evaluation {
  types: Record<string, MetricValues>;
  average: MetricValues;
  ids: Record<string, Record<string, MetricValues & { normals: number; anomalies: number }>>;
  maxFpr: number;
  pooled: boolean;
}

function mean(values: MetricValues[]): MetricValues {
  const n = values.length;
  return {
    auc: values.reduce((a, v) => a + v.auc, 0) / n,
    pauc: values.reduce((a, v) => a + v.pauc, 0) / n,
    paucMcclish: values.reduce((a, v) => a + v.paucMcclish, 0) / n,
  };
}

interface Group {
  labels: number[];
  scores: number[];
}

function push(map: Map<string, Group>, key: string, row: ScoreRow): void {
  let g = map.get(key);
  if (!g) map.set(key, (g = { labels: [], scores: [] }));
  g.labels.push(row.label);
  g.scores.push(row.score);
}

function countOf(g: Group): { normals: number; anomalies: number } {
  const anomalies = g.labels.reduce((a, y) => a + (y === 1 ? 1 : 0), 0);
  return { normals: g.labels.length - anomalies, anomalies };
}

/**
 * Per-type and average metrics of scored clips (§3.1, Table 2 layout): per machine ID, then the
 * arithmetic mean over each type's IDs, then the mean over types; or, with `pooled`, one ROC per
 * type over all its IDs. Every ID (and type) needs both normal and anomalous clips.
 */
export function evaluate(rows: readonly ScoreRow[], opts: EvaluateOptions = {}): Evaluation {
  const maxFpr = opts.maxFpr ?? 0.1;
  const pooled = opts.pooled ?? false;
  if (rows.length === 0) throw new UserError('evaluate: no scored clips');
  const byType = new Map<string, Map<string, Group>>();
  const pooledGroups = new Map<string, Group>();
  for (const r of rows) {
    let ids = byType.get(r.type);
    if (!ids) byType.set(r.type, (ids = new Map()));
    push(ids, r.id, r);
    push(pooledGroups, r.type, r);
  }
  const types: Record<string, MetricValues> = {};
  const ids: Evaluation['ids'] = {};
  for (const type of [...byType.keys()].sort()) {
    const perId: Record<string, MetricValues & { normals: number; anomalies: number }> = {};
    for (const id of [...byType.get(type)!.keys()].sort()) {
      const g = byType.get(type)!.get(id)!;
      const c = countOf(g);
      if (c.normals === 0 || c.anomalies === 0) {
        throw new UserError(
          `type "${type}", id "${id}" has ${c.anomalies} anomalies and ${c.normals} normals; each machine ID needs both`,
        );
      }
      perId[id] = { ...rocMetrics(g.labels, g.scores, maxFpr), ...c };
    }
    ids[type] = perId;
    types[type] = pooled
      ? rocMetrics(pooledGroups.get(type)!.labels, pooledGroups.get(type)!.scores, maxFpr)
      : mean(Object.values(perId));
  }
  return { types, average: mean(Object.values(types)), ids, maxFpr, pooled };
}
