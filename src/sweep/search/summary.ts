import { z } from 'zod';
import type { StoredRungs } from '../../store/rungs.js';
import type { RungSummary, TrialView } from '../state.js';
import { PruneSpec, SearchSpec, defaultMode, gridOf, isTestMetric, rungEpochs, type Metric } from './space.js';

/**
 * An adaptive sweep as anyone reading the store sees it (exp sweep status, --attach, the engine's
 * own rung line): trial views get paused / promoted / pruned from the stored decisions, and the
 * rung summary is counted from the stored rung table.
 */

export interface AdaptiveInfo {
  method: string;
  metric: Metric;
  mode: 'min' | 'max';
  rungs: number[];
  testSelection: boolean;
  gridSize: number | null;
}

const Stored = z.object({ search: SearchSpec.optional(), prune: PruneSpec.optional() });

/** What the registered spec says about adaptivity, or null for an ordinary sweep. */
export function adaptiveInfo(spec: unknown): AdaptiveInfo | null {
  const p = Stored.safeParse(spec);
  if (!p.success || (!p.data.search && !p.data.prune)) return null;
  const { search, prune } = p.data;
  const metric: Metric = prune?.metric ?? search?.metric ?? 'valLoss';
  return {
    method: prune?.method ?? 'none',
    metric,
    mode: prune?.mode ?? search?.mode ?? defaultMode(metric),
    rungs: prune ? rungEpochs(prune) : [],
    testSelection: isTestMetric(metric),
    gridSize: search ? (gridOf(search.space)?.length ?? null) : null,
  };
}

/** A trial's configuration label: its name without the seed suffix. */
export const labelOf = (name: string): string => name.replace(/\/seed=\d+$/, '');

/**
 * Applies the latest decision at each configuration's highest decided rung to its trials' views
 * (a running or finished trial keeps its status) and counts the rung summary.
 */
export function adaptiveViews(
  info: AdaptiveInfo,
  trials: readonly TrialView[],
  table: StoredRungs,
): { trials: TrialView[]; summary: RungSummary } {
  const latest = new Map<string, StoredRungs['decisions'][number]>();
  for (const d of table.decisions) {
    const prev = latest.get(d.unitName);
    if (!prev || d.rung > prev.rung || (d.rung === prev.rung && d.seq > prev.seq)) latest.set(d.unitName, d);
  }
  const out = trials.map((t) => {
    const d = latest.get(labelOf(t.name));
    if (!d || t.status === 'running' || t.status === 'done' || t.status === 'failed' || t.status === 'stale') return t;
    const status = d.action === 'stop' ? 'pruned' : d.action === 'pause' ? 'paused' : 'promoted';
    return { ...t, status, error: `epoch ${d.rung}: ${d.reason}` } as TrialView;
  });
  const perLabel = new Map<string, number>();
  for (const t of out) perLabel.set(labelOf(t.name), (perLabel.get(labelOf(t.name)) ?? 0) + 1);
  const seeds = Math.max(1, ...perLabel.values());
  const count = (s: string) => out.filter((t) => t.status === s).length;
  const maxEpochs = info.rungs.at(-1) ?? Math.max(0, ...out.map((t) => t.epochs));
  const unitsAt = (rung: number) => new Set(table.results.filter((r) => r.rung === rung).map((r) => r.unit)).size;
  const summary: RungSummary = {
    method: info.method,
    metric: info.metric,
    mode: info.mode,
    seeds,
    testSelection: info.testSelection,
    rungs: info.rungs.map((epoch) => ({ epoch, reached: unitsAt(epoch) })),
    running: count('running'),
    paused: count('paused'),
    promoted: count('promoted'),
    pruned: count('pruned'),
    finished: count('done'),
    failed: count('failed'),
    spent: out.reduce((a, t) => a + (t.lastEpoch?.epoch ?? 0), 0),
    full: (info.gridSize ?? perLabel.size) * seeds * maxEpochs,
  };
  return { trials: out, summary };
}
