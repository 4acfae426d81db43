import type Database from 'better-sqlite3';
import type { CheckpointRecord, EpochRecord, ResultSet, RunRecord, ScoreRecord } from './types.js';
import * as reads from './reads.js';
import type { Read, RunFilter, ScoreFilter, SweepInfo } from './reads.js';

/**
 * The read side of a SQLite store, synchronous (the stale sweep on open, tests).
 * The queries themselves live in reads.ts, shared with PostgreSQL; the RunStore interface
 * (run-store.ts) offers the same reads asynchronously on both engines.
 */

export { toRunRecord, type RunRow, type RunFilter, type ScoreFilter, type SweepInfo } from './reads.js';

/** Runs a read (reads.ts) on a better-sqlite3 database. */
export function readSqlite<T>(db: Database.Database, read: Read<T>): T {
  return reads.runRead(read, (q) => db.prepare(q.sql).all(...q.args));
}

export function listRuns(db: Database.Database, filter: RunFilter = {}): RunRecord[] {
  return readSqlite(db, reads.listRunsRead(filter));
}

export function getRun(db: Database.Database, id: string): RunRecord | null {
  return readSqlite(db, reads.getRunRead(id));
}

export function sweepExists(db: Database.Database, name: string): boolean {
  return readSqlite(db, reads.sweepExistsRead(name));
}

export function listSweeps(db: Database.Database): SweepInfo[] {
  return readSqlite(db, reads.listSweepsRead());
}

/**
 * A run reference as users type it: a run id, a unique id prefix, a run name (the latest run of
 * that name), or a sweep trial name. Ambiguity is an error listing the candidates.
 */
export function resolveRun(db: Database.Database, ref: string): RunRecord {
  return readSqlite(db, reads.resolveRunRead(ref));
}

export function getEpochs(db: Database.Database, runId: string): EpochRecord[] {
  return readSqlite(db, reads.getEpochsRead(runId));
}

/** Every evaluation of a run, the evalEvery ones by epoch and then the final one. */
export function getResults(db: Database.Database, runId: string): ResultSet[] {
  return readSqlite(db, reads.getResultsRead(runId));
}

export function getFinalResult(db: Database.Database, runId: string): ResultSet | null {
  return readSqlite(db, reads.getFinalResultRead(runId));
}

export function getScores(db: Database.Database, runId: string, opts: ScoreFilter = {}): ScoreRecord[] {
  return readSqlite(db, reads.getScoresRead(runId, opts));
}

export function getCheckpoints(db: Database.Database, runId: string): CheckpointRecord[] {
  return readSqlite(db, reads.getCheckpointsRead(runId));
}

/** The checkpoint a resume continues from: the latest one recorded. */
export function latestCheckpoint(db: Database.Database, runId: string): CheckpointRecord | null {
  const cps = getCheckpoints(db, runId);
  return cps.length > 0 ? cps[cps.length - 1]! : null;
}
