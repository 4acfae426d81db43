import type { OpenOptions } from './db.js';
import type { RunStore } from './run-store.js';
import { SqliteRunStore } from './sqlite-store.js';

/** Opens the run store a `--db` value names (a SQLite file path). */
export async function openRunStore(location: string, opts: OpenOptions = {}): Promise<RunStore> {
  return new SqliteRunStore(location, opts);
}
