import pg from 'pg';
import { runReadAsync, type Query, type Read } from '../reads.js';
import { SqlRunStore } from '../sql-store.js';
import type { Write } from '../writes.js';
import { UserError, messageOf } from '../../util/errors.js';
import { maskPassword } from '../../util/db-location.js';
import { requireCurrentSchema, schemaVersionPostgres } from './schema.js';
import { PgConnection } from './connection.js';

export interface PgStoreOptions {
  artifacts?: string | null;
  /** How long a lost server is waited for before an operation fails (default EXP_DB_RETRY_SECONDS, else 60 s). */
  retrySeconds?: number;
  /** Only reads will be made. Opening never writes on PostgreSQL (see open), so this changes nothing there. */
  forReading?: boolean;
}

/**
 * The shared engine: a PostgreSQL database many workers on many hosts write at once. Its reads and
 * writes are the shared ones (reads.ts, writes.ts); claims lock the trial's row with FOR UPDATE
 * SKIP LOCKED; every write is an idempotent upsert in its own transaction, so an operation retried
 * after a lost connection never records anything twice. Connections, error handlers and retries
 * are the connection layer's (connection.ts).
 */
export class PgRunStore extends SqlRunStore {
  private constructor(
    location: string,
    private readonly db: PgConnection,
    artifacts: string | null,
  ) {
    super(location, artifacts);
  }

  /**
   * Connects and checks the schema with SELECT alone: only `exp db migrate` (by the database's
   * owner) creates or alters tables, so a role granted rows only (SELECT, INSERT, UPDATE, DELETE)
   * runs everything else. A store not set up, or behind this exp, is refused naming the command.
   */
  static async open(url: string, opts: PgStoreOptions = {}): Promise<PgRunStore> {
    const location = maskPassword(url);
    const db = PgConnection.create(
      url,
      location,
      opts.retrySeconds !== undefined ? { seconds: opts.retrySeconds } : {},
    );
    try {
      const current = await db.retry(() => db.withClient((c) => schemaVersionPostgres(c, location)));
      requireCurrentSchema(current, url, location);
    } catch (e) {
      await db.close();
      if (e instanceof UserError) throw e;
      throw new UserError(`${location}: cannot open the run store: ${messageOf(e)}`);
    }
    return new PgRunStore(location, db, opts.artifacts ?? null);
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.retry(fn);
  }

  /** One transaction, retried whole after a lost connection. */
  private tx<T>(fn: (c: pg.PoolClient, retried: boolean) => Promise<T>): Promise<T> {
    return this.db.tx(fn);
  }

  /** A write (writes.ts) in one transaction, retried whole after a lost connection. */
  protected write<T>(make: (retried: boolean) => Write<T>): Promise<T> {
    return this.tx((c, retried) =>
      runReadAsync(make(retried), async (q) => (await c.query(toPgSql(q), q.args)).rows as unknown[]),
    );
  }

  /** A read (reads.ts) on the pool; retried whole, from its first query, after a lost connection. */
  protected read<T>(make: () => Read<T>): Promise<T> {
    return this.retry(() =>
      runReadAsync(make(), async (q) => (await this.db.once(toPgSql(q), q.args)).rows as unknown[]),
    );
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * The shared statements are written in SQLite's dialect; PostgreSQL numbers its placeholders,
 * calls the byte-wise collation "C" (so text sorts as in SQLite whatever the database's locale),
 * and locks the rows a write's SELECT asks for (SQLite's IMMEDIATE transactions need no lock).
 */
export function toPgSql(q: Query): string {
  let n = 0;
  const sql = q.sql.replace(/\?/g, () => `$${++n}`).replace(/COLLATE BINARY/g, 'COLLATE "C"');
  return q.lock === 'skip' ? `${sql} FOR UPDATE SKIP LOCKED` : q.lock === 'wait' ? `${sql} FOR UPDATE` : sql;
}
