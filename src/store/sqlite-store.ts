import type Database from 'better-sqlite3';
import { openDatabase, openStoreForReading, type OpenOptions } from './db.js';
import { runRead, type Query, type Read } from './reads.js';
import { SqlRunStore } from './sql-store.js';
import type { Write } from './writes.js';

/** Runs one statement of a read or a write: its rows, or [] for a statement that returns none. */
function execSqlite(db: Database.Database, q: Query): unknown[] {
  const st = db.prepare(q.sql);
  if (st.reader) return st.all(...q.args);
  st.run(...q.args);
  return [];
}

/** Runs a write (writes.ts) on a better-sqlite3 database as one IMMEDIATE transaction. */
export function writeSqlite<T>(db: Database.Database, write: Write<T>): T {
  return db.transaction(() => runRead(write, (q) => execSqlite(db, q))).immediate();
}

/**
 * The embedded engine: one SQLite file (WAL). better-sqlite3 is synchronous, so each method does
 * its work at once and returns a settled promise; writes are IMMEDIATE transactions, so two
 * processes sharing the file serialise their claims.
 */
export class SqliteRunStore extends SqlRunStore {
  readonly db: Database.Database;

  /** Opens `location` (see openDatabase), or wraps `opts.db`, a database already open on it. */
  constructor(location: string, opts: OpenOptions & { artifacts?: string | null; db?: Database.Database } = {}) {
    super(location, opts.artifacts ?? null);
    this.db = opts.db ?? openDatabase(location, opts);
  }

  /** For commands that only read: a read-only store is still read (see openStoreForReading). */
  static forReading(file: string): SqliteRunStore {
    return new SqliteRunStore(file, { db: openStoreForReading(file) });
  }

  /** Synchronous underneath; an error becomes a rejected promise. */
  protected async read<T>(make: () => Read<T>): Promise<T> {
    return runRead(make(), (q) => execSqlite(this.db, q));
  }

  protected async write<T>(make: (retried: boolean) => Write<T>): Promise<T> {
    return writeSqlite(this.db, make(false));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
