import Database from 'better-sqlite3';
import { accessSync, constants, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { describeFsError } from '../util/fs-errors.js';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ensureDir } from '../util/dirs.js';
import { asStoreError, isReadOnlyProblem, precheckStoreFile } from './store-errors.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';
import { DEFAULT_STALE_SECONDS } from './stale.js';
import { UserError } from '../util/errors.js';

export interface OpenOptions {
  /** Open read-only (reports): no migration. The file must exist. */
  readonly?: boolean;
  /**
   * Accepted and ignored: opening a store no longer marks runs whose process vanished. Such a
   * row stays 'running' and is shown as 'stale' (src/store/stale.ts) until a resume or a claim
   * takes it over, as on PostgreSQL.
   */
  staleSeconds?: number;
  /** Accepted and ignored (see staleSeconds). */
  detectStale?: boolean;
}

export { DEFAULT_STALE_SECONDS };

/**
 * Opens (creating if needed) the run store: WAL so readers never block the single writer,
 * a busy timeout so a second process waits instead of failing with 'database is locked',
 * foreign keys on, the schema migrated forward. Opening writes no run row: a run whose process
 * vanished is left 'running' (readers show it as stale); only a resume or a claim takes it over
 * (resumeRefusal / decideClaim in writes.ts), so a reading command never changes what it reads.
 */
export function openDatabase(file: string, opts: OpenOptions = {}): Database.Database {
  if (/^postgres(ql)?:\/\//.test(file)) {
    throw new UserError(`${file}: this reads SQLite files only; give the path of a SQLite store`);
  }
  const memory = file === ':memory:';
  if (!memory) {
    precheckStoreFile(file);
    if (!opts.readonly) {
      ensureDir(dirname(file), 'the run store directory');
      checkWritable(file);
    }
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: opts.readonly === true, fileMustExist: opts.readonly === true });
    return prepare(db, file, memory, opts);
  } catch (e) {
    db?.close();
    throw asStoreError(e, file);
  }
}

/**
 * SQLite opens a file it cannot write (an immutable file, read-only media) read-only without a
 * word, and the first write then fails deep inside a command. A writer checks up front: the file
 * and its directory (WAL mode creates -wal and -shm next to it) must be writable.
 */
function checkWritable(file: string): void {
  for (const path of existsSync(file) ? [file, dirname(file)] : [dirname(file)]) {
    try {
      accessSync(path, constants.W_OK);
    } catch (e) {
      throw new UserError(
        `${file}: the run store is read-only (${path === file ? '' : `its directory ${path}: `}${describeFsError(e)}); reading commands still work`,
      );
    }
  }
}

function prepare(db: Database.Database, file: string, memory: boolean, opts: OpenOptions): Database.Database {
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  if (!opts.readonly) {
    if (!memory) db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode (only a power cut can lose the last commits).
    db.pragma('synchronous = NORMAL');
    migrate(db, migrations, file);
  } else {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length) {
      db.close();
      throw new UserError(
        `${file}: the run store has schema version ${version}, but this exp only knows up to version ${migrations.length}`,
      );
    }
    if (version < migrations.length) {
      db.close();
      // An older file: open it writable once so the migrations run, then read.
      return openDatabase(file);
    }
    // Reads the schema now, so a damaged file fails here with the store's name.
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
  }
  return db;
}

/**
 * The store for commands that only read (`runs`, `show`, `compare`, `export`). Normally the same
 * as openDatabase (an older schema migrated; no run row is written). When the store cannot be written (read-only
 * media, permissions, an immutable file) it is still read: first opened read-only in place; if
 * that fails too, which is what WAL mode does on read-only media (a WAL reader must create the
 * -shm index next to the file), a private copy of the file and its -wal is read instead, removed
 * when the process exits.
 */
export function openStoreForReading(file: string): Database.Database {
  try {
    return openDatabase(file);
  } catch (e) {
    if (!existsSync(file) || !isReadOnlyCause(e, file)) throw e;
  }
  try {
    return openDatabase(file, { readonly: true });
  } catch {
    return openSnapshot(file);
  }
}

function isReadOnlyCause(e: unknown, file: string): boolean {
  if (isReadOnlyProblem(e)) return true;
  return (
    e instanceof UserError && e.message.startsWith(`${file}: `) && /read-only|cannot open|permission/.test(e.message)
  );
}

function openSnapshot(file: string): Database.Database {
  const dir = mkdtempSync(join(tmpdir(), 'exp-store-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, basename(file));
  try {
    copyFileSync(file, copy);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
  } catch (e) {
    throw asStoreError(e, file);
  }
  try {
    const db = new Database(copy);
    // The copy lives only for this process; reading it applies a leftover -wal, writes nothing back.
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== migrations.length) {
      db.close();
      throw new UserError(
        `${file}: the run store is read-only and has schema version ${version}; this exp reads version ${migrations.length} (open it once where it can be written)`,
      );
    }
    return db;
  } catch (e) {
    throw asStoreError(e, file);
  }
}

/** The schema version of an existing SQLite store, read without writing anything. */
export function readSchemaVersion(file: string): number {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return db.pragma('user_version', { simple: true }) as number;
  } catch (e) {
    throw asStoreError(e, file);
  } finally {
    db?.close();
  }
}
