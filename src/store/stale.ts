import type Database from 'better-sqlite3';
import { hostname } from 'node:os';

/** True when a process with this pid exists on this machine (EPERM = exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

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
 * Runs left 'running' by a process that vanished (kill -9, power cut) become 'interrupted', which
 * is resumable. Returns the ids it marked.
 */
export function markStaleRuns(db: Database.Database, opts: { staleSeconds: number; now?: number }): string[] {
  const now = opts.now ?? Date.now();
  const marked: string[] = [];
  db.transaction(() => {
    const rows = db
      .prepare(`SELECT id, host, pid, heartbeat_at FROM runs WHERE status = 'running'`)
      .all() as Array<{ id: string; host: string; pid: number | null; heartbeat_at: number | null }>;
    const mark = db.prepare(
      `UPDATE runs SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND status = 'running'`,
    );
    for (const row of rows) {
      if (leaseAlive(row, opts.staleSeconds, now)) continue;
      const last = row.heartbeat_at === null ? 'never' : new Date(row.heartbeat_at).toISOString();
      mark.run(`process ${row.pid ?? '?'} on ${row.host} stopped without finishing (last heartbeat ${last})`, new Date(now).toISOString(), row.id);
      marked.push(row.id);
    }
  }).immediate();
  return marked;
}
