import type { OpenOptions } from './db.js';
import type { RunReader, RunStore } from './run-store.js';
import { SqliteRunStore } from './sqlite-store.js';

export interface StoreOptions extends OpenOptions {
  /** Directory for run directories (checkpoints), recorded with each run; see runDirFor. */
  artifacts?: string | null;
  /** Only reads will be made (exp sweep status): opened as openRunReader does, so SELECT alone is enough. */
  forReading?: boolean;
}

/** A `--db` value that names a PostgreSQL database rather than a SQLite file. */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//.test(location);

/** Opens the run store a `--db` value names: a `postgres://` URL (shared, many hosts) or a SQLite file. */
export async function openRunStore(location: string, opts: StoreOptions = {}): Promise<RunStore> {
  if (isPostgresUrl(location)) {
    // pg is loaded only for a PostgreSQL store.
    const { PgRunStore } = await import('./pg/pg-store.js');
    return PgRunStore.open(location, { artifacts: opts.artifacts ?? null, forReading: opts.forReading === true });
  }
  return opts.forReading ? SqliteRunStore.forReading(location) : new SqliteRunStore(location, opts);
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
