import pg from 'pg';
import { runReadAsync, type Query, type Read } from '../reads.js';
import { SqlRunStore } from '../sql-store.js';
import type { Write } from '../writes.js';
import { UserError, messageOf } from '../../util/errors.js';
import { maskPassword } from '../../util/db-location.js';
import { migratePostgres, schemaVersionPostgres } from './schema.js';
import { migrations } from '../migrations/index.js';
import { withRetry } from './retry.js';

// BIGINT (heartbeats in epoch ms) as a JS number, not a string; safe below 2^53.
const types = { getTypeParser: (oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) };

export interface PgStoreOptions {
  artifacts?: string | null;
  /** How long a lost connection is retried before the operation fails (default 60 s). */
  retrySeconds?: number;
  /**
   * For commands that only read: a store already at this exp's schema is not touched, so a role
   * granted SELECT alone can read it (an older schema is still migrated, which needs more).
   */
  forReading?: boolean;
}

/**
 * The shared engine: a PostgreSQL database many workers on many hosts write at once. Its reads and
 * writes are the shared ones (reads.ts, writes.ts); claims lock the trial's row with FOR UPDATE
 * SKIP LOCKED; every write is an idempotent upsert in its own transaction, so an operation retried
 * after a lost connection never records anything twice.
 */
export class PgRunStore extends SqlRunStore {
  private constructor(
    location: string,
    private readonly pool: pg.Pool,
    private readonly opts: PgStoreOptions,
  ) {
    super(location, opts.artifacts ?? null);
  }

  static async open(url: string, opts: PgStoreOptions = {}): Promise<PgRunStore> {
    const pool = new pg.Pool({ connectionString: url, max: 4, types, connectionTimeoutMillis: 10_000 });
    // An idle client losing its server (a restart) must not crash the process; the next query retries.
    pool.on('error', () => undefined);
    const store = new PgRunStore(maskPassword(url), pool, opts);
    try {
      await store.retry(async () => {
        const client = await pool.connect();
        try {
          const current = opts.forReading ? await schemaVersionPostgres(client, store.location) : null;
          if (current !== migrations.length) await migratePostgres(client, store.location);
        } finally {
          client.release();
        }
      });
    } catch (e) {
      await pool.end();
      if (e instanceof UserError) throw e;
      throw new UserError(`${store.location}: cannot open the run store: ${messageOf(e)}`);
    }
    return store;
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { seconds: this.opts.retrySeconds ?? 60 });
  }

  /** One transaction, retried whole after a lost connection. */
  private tx<T>(fn: (c: pg.PoolClient, retried: boolean) => Promise<T>): Promise<T> {
    let attempts = 0;
    return this.retry(async () => {
      const retried = attempts++ > 0;
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn(c, retried);
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    });
  }

  /** A write (writes.ts) in one transaction, retried whole after a lost connection. */
  protected write<T>(make: (retried: boolean) => Write<T>): Promise<T> {
    return this.tx((c, retried) => runReadAsync(make(retried), async (q) => (await c.query(toPgSql(q), q.args)).rows as unknown[]));
  }

  /** A read (reads.ts) on the pool; retried whole, from its first query, after a lost connection. */
  protected read<T>(make: () => Read<T>): Promise<T> {
    return this.retry(() => runReadAsync(make(), async (q) => (await this.pool.query(toPgSql(q), q.args)).rows as unknown[]));
  }

  async close(): Promise<void> {
    await this.pool.end();
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
