import pg from 'pg';
import { Outage, isConnectionError, retrySeconds } from './retry.js';

// BIGINT (heartbeats in epoch ms) as a JS number, not a string; safe below 2^53.
const types = {
  getTypeParser: (oid: number, format?: string) =>
    oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'),
};

const ignore = (): void => undefined;

/**
 * The PostgreSQL connection layer every store operation goes through: a pool whose every client
 * has an error handler, checked out or idle, and one outage clock (see Outage) for retries.
 *
 * Why every client: when the server restarts, each open connection emits 'error'. pg-pool listens
 * on idle clients only; a checked-out client (a transaction, a LISTEN) without a listener turns
 * the event into an uncaught exception that kills the process. The error is not lost by ignoring
 * the event here: the query running on that client rejects with it (or the next one does), and
 * that is where it is retried.
 */
export class PgConnection {
  readonly outage: Outage;

  private constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
    seconds: number,
  ) {
    this.outage = new Outage(location, seconds);
  }

  /** `location` is the URL as it may be printed (password masked). */
  static create(url: string, location: string, opts: { max?: number; seconds?: number } = {}): PgConnection {
    const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 4, types, connectionTimeoutMillis: 10_000 });
    pool.on('error', ignore);
    pool.on('connect', (client) => client.on('error', ignore));
    return new PgConnection(pool, location, opts.seconds ?? retrySeconds());
  }

  /** fn, retried from its start after a lost connection (see Outage). */
  retry<T>(fn: () => Promise<T>): Promise<T> {
    return this.outage.retry(fn);
  }

  /** A client for fn alone; a client whose connection broke is discarded, not returned to the pool. */
  async withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await fn(c);
    } catch (e) {
      if (isConnectionError(e)) broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      c.release(broken);
    }
  }

  /** One transaction, retried whole after a lost connection; `retried` tells fn it is not the first attempt. */
  tx<T>(fn: (c: pg.PoolClient, retried: boolean) => Promise<T>): Promise<T> {
    let attempts = 0;
    return this.retry(() => {
      const retried = attempts++ > 0;
      return this.withClient(async (c) => {
        await c.query('BEGIN');
        try {
          const out = await fn(c, retried);
          await c.query('COMMIT');
          return out;
        } catch (e) {
          await c.query('ROLLBACK').catch(ignore);
          throw e;
        }
      });
    });
  }

  /** One statement on any pooled client, retried after a lost connection. */
  async query<R extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.retry(() => this.pool.query<R>(sql, args));
  }

  /** One statement on any pooled client, not retried (for use inside retry). */
  once<R extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, args);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
