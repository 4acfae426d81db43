import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';
import { markStaleRuns } from './stale.js';
import { UserError, messageOf } from '../util/errors.js';

export interface OpenOptions {
  /** Open read-only (reports): no migration, no stale sweep. The file must exist. */
  readonly?: boolean;
  /** A running run whose heartbeat is older than this is interrupted (default 300 s). */
  staleSeconds?: number;
  /** Mark vanished runs interrupted on open (default true unless read-only). */
  detectStale?: boolean;
}

export const DEFAULT_STALE_SECONDS = 300;

/**
 * Opens (creating if needed) the run store: WAL so readers never block the single writer,
 * a busy timeout so a second process waits instead of failing with 'database is locked',
 * foreign keys on, the schema migrated forward, and runs whose process vanished marked interrupted.
 */
export function openDatabase(file: string, opts: OpenOptions = {}): Database.Database {
  const memory = file === ':memory:';
  if (!memory && !opts.readonly) mkdirSync(dirname(file), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: opts.readonly === true, fileMustExist: opts.readonly === true });
  } catch (e) {
    throw new UserError(`${file}: cannot open the run store: ${messageOf(e)}`);
  }
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  if (!opts.readonly) {
    if (!memory) db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode (only a power cut can lose the last commits).
    db.pragma('synchronous = NORMAL');
    migrate(db, migrations, file);
    if (opts.detectStale !== false) markStaleRuns(db, { staleSeconds: opts.staleSeconds ?? DEFAULT_STALE_SECONDS });
  } else {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length) {
      db.close();
      throw new UserError(`${file}: the run store has schema version ${version}, but this exp only knows up to version ${migrations.length}`);
    }
    if (version < migrations.length) {
      db.close();
      // An older file: open it writable once so the migrations run, then read.
      return openDatabase(file, { detectStale: false });
    }
  }
  return db;
}
