import { existsSync } from 'node:fs';
import { openDatabase, readSchemaVersion, type OpenOptions } from './db.js';
import { migrations } from './migrations/index.js';
import type { RunReader, RunStore } from './run-store.js';
import { SqliteRunStore } from './sqlite-store.js';
import { isPostgresUrl } from '../util/db-location.js';
import { UserError } from '../util/errors.js';
import { precheckStoreFile } from './store-errors.js';

export interface StoreOptions extends OpenOptions {
  /** Directory for run directories (checkpoints), recorded with each run; see runDirFor. */
  artifacts?: string | null;
  /** Only reads will be made (exp sweep status): opened as openRunReader does, so SELECT alone is enough. */
  forReading?: boolean;
  /** A SQLite store must exist already (implied by forReading): commands about runs stored earlier. */
  existing?: boolean;
}

export { isPostgresUrl };

/** Opens the run store a `--db` value names: a `postgres://` URL (shared, many hosts) or a SQLite file. */
export async function openRunStore(location: string, opts: StoreOptions = {}): Promise<RunStore> {
  if (isPostgresUrl(location)) {
    // pg is loaded only for a PostgreSQL store.
    const { PgRunStore } = await import('./pg/pg-store.js');
    return PgRunStore.open(location, { artifacts: opts.artifacts ?? null, forReading: opts.forReading === true });
  }
  if (opts.forReading || opts.existing) requireExisting(location);
  return opts.forReading ? SqliteRunStore.forReading(location) : new SqliteRunStore(location, opts);
}

/**
 * A command that only reads never creates a store: a mistyped path would otherwise leave an
 * empty one behind and report "no runs". Only writers (exp run, exp sweep, exp db migrate)
 * create a SQLite store.
 */
function requireExisting(file: string): void {
  if (file === ':memory:') return;
  // A path under a file, a directory, a text file: named as such (see precheckStoreFile).
  precheckStoreFile(file);
  if (!existsSync(file)) {
    throw new UserError(
      `--db ${file}: no run store at that path (no such file)`,
      'exp run and exp sweep create one; give the store your runs were written to with --db FILE',
    );
  }
}

/**
 * The store for commands that only read (`runs`, `show`, `compare`, `metrics --run`, `export`,
 * `report`): either engine. A SQLite store that cannot be written is still read (read-only, or a
 * private snapshot: see openStoreForReading).
 */
export async function openRunReader(location: string): Promise<RunReader> {
  if (isPostgresUrl(location)) {
    const { PgRunStore } = await import('./pg/pg-store.js');
    return PgRunStore.open(location, { forReading: true });
  }
  requireExisting(location);
  return SqliteRunStore.forReading(location);
}

/** Opens the store for reading, runs `fn`, and closes the store whatever happens. */
export async function withRunReader<T>(location: string, fn: (store: RunReader) => Promise<T>): Promise<T> {
  const store = await openRunReader(location);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export interface MigrateReport {
  location: string;
  /** The schema version before: null when there was no store. */
  from: number | null;
  to: number;
}

/**
 * `exp db migrate`: creates the store if there is none and brings it to the newest schema. On
 * PostgreSQL this is the only command that creates or alters tables; a SQLite store is also
 * migrated by any command that writes it (its owner is whoever runs exp on it).
 */
export async function migrateStore(location: string): Promise<MigrateReport> {
  if (isPostgresUrl(location)) {
    const { migratePgStore } = await import('./pg/schema.js');
    return migratePgStore(location);
  }
  let from: number | null = null;
  if (location !== ':memory:' && existsSync(location)) {
    precheckStoreFile(location);
    from = readSchemaVersion(location);
  }
  openDatabase(location).close();
  return { location, from, to: migrations.length };
}
