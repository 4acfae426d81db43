import type { RunReader } from '../store/run-store.js';
import type { StoredRungs } from '../store/rungs.js';
import { adaptiveInfo, type AdaptiveInfo } from '../sweep/search/summary.js';

/** An adaptive sweep's objective and rung table, for show / export / the report; null for other sweeps. */
export interface AdaptiveRecord {
  info: AdaptiveInfo;
  table: StoredRungs;
}

export async function adaptiveRecord(store: RunReader, sweep: string | null): Promise<AdaptiveRecord | null> {
  if (sweep === null) return null;
  const s = (await store.listSweeps()).find((x) => x.name === sweep);
  const info = s ? adaptiveInfo(s.spec) : null;
  return info ? { info, table: await store.rungTable(sweep) } : null;
}

/** The line that marks a sweep whose configurations were chosen on the test set. */
export function testSelectionNote(a: AdaptiveRecord | null): string | null {
  if (!a?.info.testSelection) return null;
  return `WARNING: this sweep selected configurations on the test-set metric ${a.info.metric} (allowTestSelection: true), so its best result is optimistically biased`;
}

/** The decisions about one configuration (by its label: the trial name without /seed=N), oldest first. */
export function decisionsFor(a: AdaptiveRecord, label: string): StoredRungs['decisions'] {
  return a.table.decisions.filter((d) => d.unitName === label);
}

/** Where a trial of an adaptive sweep stands at the rungs: pruned, paused or promoted, with the rung and the reason. */
export interface RungStanding {
  status: 'pruned' | 'paused' | 'promoted';
  epoch: number;
  reason: string;
}

/**
 * A paused or pruned run's standing, from its stored status and its configuration's latest
 * decision (a paused run whose configuration was promoted since waits to be resumed). Other
 * statuses have none: a running, done or failed run speaks for itself.
 */
export function rungStanding(
  a: AdaptiveRecord | null,
  run: { status: string; trial: string | null },
): RungStanding | null {
  if (!a || run.trial === null || (run.status !== 'paused' && run.status !== 'pruned')) return null;
  const ds = decisionsFor(a, run.trial.replace(/\/seed=\d+$/, ''));
  const d = run.status === 'pruned' ? ds.filter((x) => x.action === 'stop').at(-1) : ds.at(-1);
  if (!d) return run.status === 'pruned' ? { status: 'pruned', epoch: 0, reason: 'no stored decision' } : null;
  const status = run.status === 'pruned' ? 'pruned' : d.action === 'promote' ? 'promoted' : 'paused';
  return { status, epoch: d.rung, reason: d.reason };
}
