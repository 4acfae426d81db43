import type pg from 'pg';
import type { Migration } from '../migrate.js';
import { migrations } from '../migrations/index.js';
import { UserError, messageOf } from '../../util/errors.js';
import { PgConnection } from './connection.js';
import { dbFlag, maskPassword } from '../../util/db-location.js';

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
export async function schemaVersionPostgres(
  client: pg.ClientBase,
  location: string,
  list: readonly Migration[] = migrations,
): Promise<number | null> {
  const t = await client.query<{ present: boolean }>(`SELECT to_regclass('schema_version') IS NOT NULL AS present`);
  if (!t.rows[0]?.present) return null;
  const current = (await client.query<{ version: number }>('SELECT version FROM schema_version')).rows[0]?.version ?? 0;
  if (current > list.length)
    throw new UserError(
      `${location}: the run store has schema version ${current}, but this exp only knows up to version ${list.length}`,
    );
  return current;
}

/**
 * Refuses a store whose schema is not this exp's: not set up yet, or behind (run exp db migrate,
 * as the database's owner: only that command creates or alters tables).
 */
export function requireCurrentSchema(
  current: number | null,
  url: string,
  location: string,
  list: readonly Migration[] = migrations,
): void {
  const fix = `run: exp db migrate${dbFlag(url)} (as a role that may create tables, e.g. the database's owner)`;
  if (current === null) throw new UserError(`${location}: this database has no exp run store yet`, fix);
  if (current < list.length)
    throw new UserError(
      `${location}: the run store has schema version ${current}, this exp needs version ${list.length}`,
      fix,
    );
}

export interface Migrated {
  /** The version before: null for a database exp had not set up. */
  from: number | null;
  to: number;
}

/** Brings a PostgreSQL store to the newest schema; one migration per transaction, under an advisory lock. */
export async function migratePostgres(
  client: pg.ClientBase,
  location: string,
  list: readonly Migration[] = migrations,
): Promise<Migrated> {
  await client.query('BEGIN');
  try {
    // Many workers may start at once: one migrates, the others wait here and then find nothing to do.
    await client.query('SELECT pg_advisory_xact_lock(7316)');
    const existed =
      (await client.query<{ present: boolean }>(`SELECT to_regclass('schema_version') IS NOT NULL AS present`)).rows[0]
        ?.present === true;
    if (!existed) await client.query('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    const r = await client.query<{ version: number }>('SELECT version FROM schema_version');
    const current = r.rows[0]?.version ?? 0;
    if (r.rows.length === 0) await client.query('INSERT INTO schema_version (version) VALUES (0)');
    if (current > list.length) {
      throw new UserError(
        `${location}: the run store has schema version ${current}, but this exp only knows up to version ${list.length}`,
      );
    }
    for (const m of list.slice(current)) {
      if (m.postgresBefore) await client.query(m.postgresBefore);
      await client.query(toPostgres(m.sql));
      await client.query('UPDATE schema_version SET version = $1', [m.version]);
    }
    await client.query('COMMIT');
    return { from: existed ? current : null, to: list.length };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** `exp db migrate` on a PostgreSQL store: the one command that creates or alters its tables. */
export async function migratePgStore(url: string): Promise<Migrated & { location: string }> {
  const location = maskPassword(url);
  const db = PgConnection.create(url, location, { max: 1 });
  try {
    return { location, ...(await db.retry(() => db.withClient((c) => migratePostgres(c, location)))) };
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${location}: cannot migrate the run store: ${messageOf(e)}`);
  } finally {
    await db.close();
  }
}
