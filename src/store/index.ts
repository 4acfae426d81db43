export * from './types.js';
export { openDatabase, openStoreForReading, DEFAULT_STALE_SECONDS, type OpenOptions } from './db.js';
export { migrate, schemaVersion, type Migration } from './migrate.js';
export { migrations } from './migrations/index.js';
export {
  leaseAlive,
  pidAlive,
  shownStatus,
  staleReason,
  type ShownStatus,
  type LeaseView,
} from './stale.js';
export { newRunId } from './ids.js';
export { provenance, type Provenance } from './provenance.js';
export * from './queries.js';
export {
  runDirFor,
  newRunRow,
  decideClaim,
  resumeRefusal,
  createRunWrite,
  resumeRunWrite,
  claimTrialWrite,
  registerSweepWrite,
  recordEventWrite,
  heartbeatWrite,
  finishRunWrite,
  recordJobWrite,
  setJobStateWrite,
  type Write,
  type NewRun,
  type ClaimPolicy,
  type TrialRef,
  type SweepRecord,
} from './writes.js';
export type {
  RunStore,
  RunReader,
  RunWriter,
  RunLease,
  TrialClaim,
  SweepClaimContext,
  EndStatus,
} from './run-store.js';
export { SqliteRunStore, writeSqlite } from './sqlite-store.js';
export { SqlRunStore } from './sql-store.js';
export { openRunStore, openRunReader, withRunReader, isPostgresUrl } from './open.js';
export { runRead, runReadAsync, findTrialRunRead, type Read, type Query } from './reads.js';
export type { SweepJob, JobState, RecordedSweep, TrialProgress } from './sweep-jobs.js';
