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
