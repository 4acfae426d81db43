import type { Migration } from '../migrate.js';

/**
 * Adaptive sweeps (src/sweep/search/): every rung result and every pruning decision is a row, so
 * the decisions live in the store, not in a process's memory. A configuration ("unit": one search
 * point, all its seeds) is judged at a rung on its runs' values there; decisions are appended in
 * `seq` order and never rewritten (a pause may later be followed by a promote or a stop).
 */
export const migration003: Migration = {
  version: 3,
  name: 'sweep-rungs',
  sql: `
CREATE TABLE sweep_rungs (
  sweep       TEXT NOT NULL REFERENCES sweeps(name) ON DELETE CASCADE,
  run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  unit        INTEGER NOT NULL,         -- the configuration's index in the search
  rung        INTEGER NOT NULL,         -- the epoch the value was taken at
  metric      TEXT NOT NULL,
  value       REAL,                     -- as measured (NULL: not a finite number)
  recorded_at TEXT NOT NULL,
  PRIMARY KEY (sweep, run_id, rung)
) STRICT;
CREATE INDEX sweep_rungs_unit ON sweep_rungs(sweep, unit, rung);

CREATE TABLE sweep_decisions (
  sweep      TEXT NOT NULL REFERENCES sweeps(name) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,          -- order of decisions within the sweep (1, 2, ...)
  unit       INTEGER NOT NULL,
  unit_name  TEXT NOT NULL,
  rung       INTEGER NOT NULL,
  action     TEXT NOT NULL CHECK (action IN ('promote', 'pause', 'stop')),
  reason     TEXT NOT NULL,
  basis      TEXT NOT NULL,             -- JSON: the numbers the decision was based on
  decided_at TEXT NOT NULL,
  PRIMARY KEY (sweep, seq)
) STRICT;
`,
};
