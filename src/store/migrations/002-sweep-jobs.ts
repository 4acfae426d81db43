import type { Migration } from '../migrate.js';

/**
 * Batch jobs a sweep submitted (the Slurm executor, docs/cluster.md). `exp sweep X --attach`, `status`
 * and `cancel` find the sweep's job here, on whatever host they run; `state` becomes 'cancelled'
 * when `exp sweep cancel` stops it, so a following orchestrator does not submit it again.
 */
export const migration002: Migration = {
  version: 2,
  name: 'sweep-jobs',
  sql: `
CREATE TABLE sweep_jobs (
  sweep        TEXT NOT NULL REFERENCES sweeps(name) ON DELETE CASCADE,
  job_id       TEXT NOT NULL,
  executor     TEXT NOT NULL,
  tasks        INTEGER NOT NULL,
  concurrency  INTEGER NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('submitted', 'cancelled')),
  host         TEXT NOT NULL,
  submitted_at TEXT NOT NULL,
  PRIMARY KEY (sweep, job_id)
) STRICT;
`,
};
