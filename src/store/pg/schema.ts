import type pg from 'pg';
import type { Migration } from '../migrate.js';
import { migrations } from '../migrations/index.js';
import { UserError } from '../../util/errors.js';

/**
 * The same numbered migrations as SQLite, in PostgreSQL's dialect. The translation is mechanical
 * and limited to what our migrations use: STRICT is SQLite-only; REAL is single precision in
 * PostgreSQL, so metrics become DOUBLE PRECISION (SQLite's REAL is 8 bytes); epoch-millisecond
 * heartbeats need BIGINT. Table and column names, keys and constraints are unchanged.
 */
export function toPostgres(sql: string): string {
  return sql
    .replace(/\)\s*STRICT;/g, ');')
    .replace(/\bREAL\b/g, 'DOUBLE PRECISION')
    .replace(/\bheartbeat_at(\s+)INTEGER\b/g, 'heartbeat_at$1BIGINT');
}

/**
 * The schema version of a PostgreSQL store without writing anything (a role that may only
 * SELECT can ask): null for a database exp has not set up. A newer version than this exp knows is
 * the same error as in migratePostgres.
 */
export async function schemaVersionPostgres(client: pg.ClientBase, location: string, list: readonly Migration[] = migrations): Promise<number | null> {
  const t = await client.query<{ present: boolean }>(`SELECT to_regclass('schema_version') IS NOT NULL AS present`);
  if (!t.rows[0]?.present) return null;
  const current = (await client.query<{ version: number }>('SELECT version FROM schema_version')).rows[0]?.version ?? 0;
  if (current > list.length) throw new UserError(`${location}: the run store has schema version ${current}, but this exp only knows up to version ${list.length}`);
  return current;
}

/** Brings a PostgreSQL store to the newest schema; one migration per transaction, under an advisory lock. */
export async function migratePostgres(client: pg.ClientBase, location: string, list: readonly Migration[] = migrations): Promise<number> {
  await client.query('BEGIN');
  try {
    // Many workers may start at once: one migrates, the others wait here and then find nothing to do.
    await client.query('SELECT pg_advisory_xact_lock(7316)');
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const r = await client.query<{ version: number }>('SELECT version FROM schema_version');
    const current = r.rows[0]?.version ?? 0;
    if (r.rows.length === 0) await client.query('INSERT INTO schema_version (version) VALUES (0)');
    if (current > list.length) {
      throw new UserError(`${location}: the run store has schema version ${current}, but this exp only knows up to version ${list.length}`);
    }
    for (const m of list.slice(current)) {
      await client.query(toPostgres(m.sql));
      await client.query('UPDATE schema_version SET version = $1', [m.version]);
    }
    await client.query('COMMIT');
    return list.length;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
