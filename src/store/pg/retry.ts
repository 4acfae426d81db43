import { UserError } from '../../util/errors.js';
import { StoreUnreachableError } from '../store-errors.js';

/**
 * Errors that mean the connection, not the statement, failed: the server restarted or went away,
 * the network dropped. SQLSTATE class 08 (connection exception) and 57P01-57P03 (shutdown,
 * crash, cannot connect now) plus Node's socket errors.
 */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (code.startsWith('08') ||
      [
        '57P01',
        '57P02',
        '57P03',
        'ECONNREFUSED',
        'ECONNRESET',
        'EPIPE',
        'ETIMEDOUT',
        'EHOSTUNREACH',
        'ENOTFOUND',
      ].includes(code))
  )
    return true;
  return (
    e instanceof Error &&
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection|Connection is not queryable/i.test(
      e.message,
    )
  );
}

/** How long a lost PostgreSQL server is waited for, in seconds: EXP_DB_RETRY_SECONDS, else 60. */
export function retrySeconds(): number {
  const raw = process.env.EXP_DB_RETRY_SECONDS;
  if (raw === undefined || raw === '') return 60;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new UserError(`EXP_DB_RETRY_SECONDS=${raw}: expected a number of seconds (0 or more)`);
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One outage clock per store. A lost connection is retried with growing pauses (0.1 s doubling to
 * 2 s) until the server has been unreachable for `seconds` in all, counted from the first failure
 * of the outage, not of each operation: once the time is up, every operation (the next write, the
 * final status) fails at its first refusal, so a command whose server is gone stops after about
 * `seconds`, not a multiple of it. Any success ends the outage.
 */
export class Outage {
  private since: number | null = null;

  constructor(
    readonly location: string,
    readonly seconds: number,
  ) {}

  async retry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await fn();
        this.since = null;
        return out;
      } catch (e) {
        if (!isConnectionError(e)) throw e;
        const now = Date.now();
        this.since ??= now;
        if (now - this.since >= this.seconds * 1000) throw new StoreUnreachableError(this.location, this.seconds, e);
        await sleep(Math.min(2000, 100 * 2 ** attempt, Math.max(0, this.since + this.seconds * 1000 - now)));
      }
    }
  }
}

/** Runs fn, again after a lost connection (growing pauses, up to `seconds` in all); other errors pass through. */
export async function withRetry<T>(fn: () => Promise<T>, opts: { seconds: number }): Promise<T> {
  const deadline = Date.now() + opts.seconds * 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isConnectionError(e) || Date.now() >= deadline) throw e;
      await sleep(Math.min(2000, 100 * 2 ** attempt));
    }
  }
}
