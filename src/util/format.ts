/** Small text formatters shared by the dashboard, the plain progress lines and the reports. */

import { dbFlag } from './db-location.js';

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A metric in [0, 1] as a percentage with 2 decimals (the paper's tables), '-' when missing. */
export const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : (100 * x).toFixed(2);

export function bar(fraction: number, width: number): string {
  const w = Math.max(1, width);
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * w);
  return '█'.repeat(filled) + '░'.repeat(w - filled);
}

/** A system's own loss terms of the last epoch, " (mse 0.1234)" or " (cls 1.2345 metric 0.3000)"; "" when none. */
export function formatTerms(terms: Record<string, number> | null): string {
  const entries = Object.entries(terms ?? {});
  return entries.length ? ` (${entries.map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')})` : '';
}

/**
 * The command that draws a finished run's or sweep's figures (ROC curves, score distributions,
 * learning curves): shown when a run finishes, so the next step is one copy-paste away.
 */
export function reportCommand(ref: string, dbFile?: string | null): string {
  const file = `${ref.replace(/[^A-Za-z0-9._-]+/g, '-')}.html`;
  return `exp report ${ref} --out ${file}${dbFlag(dbFile)}`;
}
