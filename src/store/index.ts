export * from './types.js';
export { openDatabase, DEFAULT_STALE_SECONDS, type OpenOptions } from './db.js';
export { migrate, schemaVersion, type Migration } from './migrate.js';
export { migrations } from './migrations/index.js';
export { markStaleRuns, leaseAlive, pidAlive } from './stale.js';
export { newRunId } from './ids.js';
export { provenance, type Provenance } from './provenance.js';
export { RunRecorder, createRun, reopenRun, resetRunOutputs, runDirFor, type NewRun } from './recorder.js';
export * from './queries.js';
