import type { Migration } from '../migrate.js';

/**
 * The first schema: runs and everything a run produces (docs/sweeps.md, "The run store"). STRICT tables so a
 * wrong type is an error, not a silent coercion; child rows cascade with their run.
 * Times are ISO-8601 text (readable in the sqlite3 shell); the heartbeat is epoch milliseconds.
 */
export const migration001: Migration = {
  version: 1,
  name: 'init',
  sql: `
CREATE TABLE sweeps (
  name       TEXT PRIMARY KEY,
  file       TEXT NOT NULL,
  spec       TEXT NOT NULL,           -- the validated sweep YAML as JSON
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE runs (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  sweep        TEXT REFERENCES sweeps(name) ON DELETE SET NULL,
  trial        TEXT,
  trial_index  INTEGER,
  profile      TEXT,
  paper        TEXT,                  -- JSON {auc, pauc} from the sweep YAML, or NULL
  status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'interrupted')),
  config       TEXT NOT NULL,         -- the validated experiment config as JSON
  config_hash  TEXT NOT NULL,
  seed         INTEGER NOT NULL,
  backend      TEXT,
  threads      INTEGER,
  info         TEXT,                  -- JSON of the trainer's start event (params, clip counts)
  git_commit   TEXT,
  git_dirty    INTEGER,
  packages     TEXT,                  -- JSON {name: version}
  host         TEXT NOT NULL,
  pid          INTEGER,
  heartbeat_at INTEGER,               -- lease: epoch ms of the writer's last sign of life
  created_at   TEXT NOT NULL,
  started_at   TEXT,
  finished_at  TEXT,
  error        TEXT,
  run_dir      TEXT
) STRICT;
CREATE INDEX runs_name ON runs(name, created_at);
CREATE INDEX runs_status ON runs(status);
-- Identity of a sweep trial is its canonical config hash: one row per (sweep, hash).
CREATE UNIQUE INDEX runs_sweep_hash ON runs(sweep, config_hash) WHERE sweep IS NOT NULL;

CREATE TABLE epochs (
  run_id        TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch         INTEGER NOT NULL,
  loss          REAL,
  terms         TEXT NOT NULL,        -- JSON {term: value}
  lr            REAL,
  clips_per_sec REAL,
  seconds       REAL,
  val_loss      REAL,
  PRIMARY KEY (run_id, epoch)         -- a replayed epoch (after a resume) replaces, never duplicates
) STRICT;

-- One row per (eval, scope): scope 'id' (type + machine_id), 'type' (machine_id ''), 'average' (both '').
CREATE TABLE results (
  run_id       TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch        INTEGER NOT NULL,
  final        INTEGER NOT NULL,
  scope        TEXT NOT NULL CHECK (scope IN ('id', 'type', 'average')),
  type         TEXT NOT NULL,
  machine_id   TEXT NOT NULL,
  auc          REAL,
  pauc         REAL,
  pauc_mcclish REAL,
  PRIMARY KEY (run_id, final, epoch, scope, type, machine_id)
) STRICT;

CREATE TABLE scores (
  run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch      INTEGER NOT NULL,
  final      INTEGER NOT NULL,
  path       TEXT NOT NULL,
  type       TEXT NOT NULL,
  machine_id TEXT NOT NULL,
  label      INTEGER NOT NULL CHECK (label IN (0, 1)),
  score      REAL,
  PRIMARY KEY (run_id, final, epoch, path)
) STRICT;

CREATE TABLE checkpoints (
  run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch      INTEGER NOT NULL,
  path       TEXT NOT NULL,
  best       INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  PRIMARY KEY (run_id, epoch)
) STRICT;
`,
};
