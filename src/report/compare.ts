import type { RunReader } from '../store/run-store.js';
import type { RunRecord } from '../store/types.js';
import { diffKeys, valueAt } from './flatten.js';
import { PAPER_TYPES } from '../paper/table2.js';
import { shownStatus, type ShownStatus } from '../store/stale.js';
import { adaptiveRecord, rungStanding, type RungStanding } from './adaptive.js';

export type Triple = [number | null, number | null, number | null];

/** `exp compare --json` (docs/cli.md): config differences as dotted keys, per-type metrics with deltas (b - a), final losses. */
export interface Comparison {
  a: string;
  b: string;
  names: [string, string];
  /** Each run's status as the reading commands show it ('stale': stored as running, its lease ran out). */
  status: [ShownStatus, ShownStatus];
  /** A trial of an adaptive sweep paused or pruned at a rung: which rung, and why (null otherwise). */
  rungs: [RungStanding | null, RungStanding | null];
  config: Record<string, [unknown, unknown]>;
  metrics: Record<string, { auc: Triple; pauc: Triple; paucMcclish: Triple }>;
  losses: { final: [number | null, number | null] };
}

const nan = (x: number | undefined): number | null => (x === undefined || Number.isNaN(x) ? null : x);
const triple = (a: number | undefined, b: number | undefined): Triple => {
  const [x, y] = [nan(a), nan(b)];
  return [x, y, x !== null && y !== null ? y - x : null];
};

export function orderTypes(types: Iterable<string>): string[] {
  const all = [...new Set(types)];
  return [
    ...PAPER_TYPES.filter((t) => all.includes(t)),
    ...all.filter((t) => !(PAPER_TYPES as readonly string[]).includes(t)).sort(),
  ];
}

export async function compareRuns(store: RunReader, a: RunRecord, b: RunRecord): Promise<Comparison> {
  const config: Record<string, [unknown, unknown]> = {};
  for (const k of diffKeys([a.config, b.config])) config[k] = [valueAt(a.config, k), valueAt(b.config, k)];
  const ra = await store.getFinalResult(a.id);
  const rb = await store.getFinalResult(b.id);
  const metrics: Comparison['metrics'] = {};
  for (const t of orderTypes([...Object.keys(ra?.types ?? {}), ...Object.keys(rb?.types ?? {})])) {
    const x = ra?.types[t];
    const y = rb?.types[t];
    metrics[t] = {
      auc: triple(x?.auc, y?.auc),
      pauc: triple(x?.pauc, y?.pauc),
      paucMcclish: triple(x?.paucMcclish, y?.paucMcclish),
    };
  }
  const x = ra?.average ?? undefined;
  const y = rb?.average ?? undefined;
  metrics.average = {
    auc: triple(x?.auc, y?.auc),
    pauc: triple(x?.pauc, y?.pauc),
    paucMcclish: triple(x?.paucMcclish, y?.paucMcclish),
  };
  const last = async (id: string) => {
    const e = await store.getEpochs(id);
    return e.length ? e[e.length - 1]!.loss : null;
  };
  return {
    a: a.id,
    b: b.id,
    names: [a.name, b.name],
    status: [shownStatus(a), shownStatus(b)],
    rungs: [await standing(store, a), await standing(store, b)],
    config,
    metrics,
    losses: { final: [await last(a.id), await last(b.id)] },
  };
}

async function standing(store: RunReader, run: RunRecord): Promise<RungStanding | null> {
  if (run.status !== 'pruned' && run.status !== 'paused') return null;
  return rungStanding(await adaptiveRecord(store, run.sweep), run);
}
