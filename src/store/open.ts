import type { OpenOptions } from './db.js';
import type { RunStore } from './run-store.js';
import { SqliteRunStore } from './sqlite-store.js';

export interface StoreOptions extends OpenOptions {
  /** Directory for run directories (checkpoints), recorded with each run; see runDirFor. */
  artifacts?: string | null;
}

/** A `--db` value that names a PostgreSQL database rather than a SQLite file. */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//.test(location);

/** Opens the run store a `--db` value names: a `postgres://` URL (shared, many hosts) or a SQLite file. */
export async function openRunStore(location: string, opts: StoreOptions = {}): Promise<RunStore> {
  if (isPostgresUrl(location)) {
    // pg is loaded only for a PostgreSQL store.
    const { PgRunStore } = await import('./pg/pg-store.js');
    return PgRunStore.open(location, { artifacts: opts.artifacts ?? null });
  }
  return new SqliteRunStore(location, opts);
}
