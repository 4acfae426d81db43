import type Database from 'better-sqlite3';
import { UserError } from '../util/errors.js';

export interface Migration {
  /** The schema version after this migration (PRAGMA user_version); 1, 2, 3, ... without gaps. */
  version: number;
  name: string;
  sql: string;
  /** Run first, in the same transaction, on SQLite only (what its SQL dialect cannot say). */
  sqliteBefore?: (db: Database.Database) => void;
  /** Run first, in the same transaction, on PostgreSQL only. */
  postgresBefore?: string;
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the file up to the newest schema: each pending migration in its own transaction, with
 * user_version bumped inside it, so a crash leaves the file at a whole version. A file written by
 * a newer exp is refused rather than misread.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[], source: string): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  const current = schemaVersion(db);
  if (current > latest) {
    throw new UserError(
      `${source}: the run store has schema version ${current}, but this exp only knows up to version ${latest}`,
      'Upgrade exp (git pull && npm install), or point --db at another file.',
    );
  }
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      // Another process opening the same new file (two workers starting at once) may have applied it meanwhile.
      if (schemaVersion(db) >= m.version) return;
      m.sqliteBefore?.(db);
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return latest;
}
