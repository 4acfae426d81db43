import type Database from 'better-sqlite3';
import type { Migration } from '../migrate.js';

const STATUSES = `'queued', 'running', 'done', 'failed', 'interrupted', 'paused', 'pruned'`;

/**
 * Adaptive sweeps get statuses of their own: `paused` (stopped at a rung with a checkpoint,
 * waiting for the scheduler: promoted, it is claimed and resumed from there) and `pruned`
 * (stopped at a rung for good; the reason is its `stop` row in sweep_decisions). Before this a
 * paused or pruned run was stored as `interrupted` and told apart at read time; such rows are
 * converted here. Epochs gain `val_acc`, the ID-classification accuracy on the validation clips
 * (an objective beside the validation loss).
 *
 * Widening the status CHECK: PostgreSQL replaces the constraint; SQLite cannot alter a CHECK, and
 * rebuilding `runs` would cascade deletes into every table that references it, so the table's
 * stored definition is edited in place, the procedure SQLite documents for loosening a
 * constraint (https://www.sqlite.org/lang_altertable.html#otheralter): every existing row
 * satisfies the wider list.
 */
export const migration004: Migration = {
  version: 4,
  name: 'pruned-status-val-acc',
  sqliteBefore: (db: Database.Database) => {
    const version = db.pragma('schema_version', { simple: true }) as number;
    db.unsafeMode(true);
    try {
      db.pragma('writable_schema = ON');
      const r = db
        .prepare(
          `UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'runs' AND instr(sql, ?) > 0`,
        )
        .run(`'interrupted'))`, `${STATUSES}))`, `'interrupted'))`);
      if (r.changes !== 1) throw new Error('migration 004: the runs table has an unexpected status constraint');
      db.pragma(`schema_version = ${version + 1}`);
      db.pragma('writable_schema = OFF');
    } finally {
      db.unsafeMode(false);
    }
  },
  postgresBefore: `
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN (${STATUSES}));
`,
  sql: `
ALTER TABLE epochs ADD COLUMN val_acc REAL;
UPDATE runs SET status = 'pruned', error = (
  SELECT 'pruned at epoch ' || d.rung || ': ' || d.reason FROM sweep_rungs r
    JOIN sweep_decisions d ON d.sweep = r.sweep AND d.unit = r.unit AND d.rung = r.rung
    WHERE r.run_id = runs.id AND d.action = 'stop' ORDER BY d.seq DESC LIMIT 1)
  WHERE status = 'interrupted' AND EXISTS (
  SELECT 1 FROM sweep_rungs r JOIN sweep_decisions d ON d.sweep = r.sweep AND d.unit = r.unit AND d.rung = r.rung
    WHERE r.run_id = runs.id AND d.action = 'stop');
UPDATE runs SET status = 'paused' WHERE status = 'interrupted' AND EXISTS (
  SELECT 1 FROM sweep_rungs r WHERE r.run_id = runs.id AND r.rung = (SELECT MAX(e.epoch) FROM epochs e WHERE e.run_id = runs.id));
`,
};
