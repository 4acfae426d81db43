import { hostname } from 'node:os';
import type { RunStatus } from './types.js';
import { pidAlive } from '../util/temp-paths.js';

/** How long a 'running' row's lease lasts without a heartbeat, unless a command is told otherwise (--lease). */
export const DEFAULT_STALE_SECONDS = 300;

export { pidAlive } from '../util/temp-paths.js';

/** Whether a 'running' row's lease still holds: its writer is alive here, and its heartbeat is recent. */
export function leaseAlive(
  row: { host: string; pid: number | null; heartbeat_at: number | null },
  staleSeconds: number,
  now = Date.now(),
): boolean {
  if (row.host === hostname() && (row.pid === null || !pidAlive(row.pid))) return false;
  return row.heartbeat_at !== null && now - row.heartbeat_at <= staleSeconds * 1000;
}

/**
 * A run's status as the reading commands (`exp runs`, `exp show`, `exp sweep status`) show it:
 * the stored one, except that a row stored as 'running' whose lease has run out (its process is
 * gone from this host, or it sent no heartbeat for longer than the lease) shows as 'stale'.
 * Readers never write that down: a SELECT-only role must read, and a reader marking a live but
 * quiet run would let a second worker claim it. Only a claim or a resume (writes.ts) takes such a run over, on
 * SQLite as on PostgreSQL.
 */
export type ShownStatus = RunStatus | 'stale';

export interface LeaseView {
  status: RunStatus;
  host: string;
  pid: number | null;
  heartbeatAt: number | null;
}

export function shownStatus(run: LeaseView, leaseSeconds = DEFAULT_STALE_SECONDS, now = Date.now()): ShownStatus {
  if (run.status !== 'running') return run.status;
  return leaseAlive({ host: run.host, pid: run.pid, heartbeat_at: run.heartbeatAt }, leaseSeconds, now)
    ? 'running'
    : 'stale';
}

/** Why a run shows as stale (one line, for exp show), or null when it does not. */
export function staleReason(run: LeaseView, leaseSeconds = DEFAULT_STALE_SECONDS, now = Date.now()): string | null {
  if (shownStatus(run, leaseSeconds, now) !== 'stale') return null;
  const gone = run.host === hostname() && (run.pid === null || !pidAlive(run.pid));
  const silence =
    run.heartbeatAt === null
      ? 'no heartbeat ever'
      : `no heartbeat for ${Math.max(0, Math.round((now - run.heartbeatAt) / 1000))} s`;
  return `stored as running by process ${run.pid ?? '?'} on ${run.host}, ${gone ? 'which no longer exists' : `${silence} (lease ${leaseSeconds} s)`}; its process is probably gone`;
}
