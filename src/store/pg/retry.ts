/**
 * Errors that mean the connection, not the statement, failed: the server restarted or went away,
 * the network dropped. SQLSTATE class 08 (connection exception) and 57P01-57P03 (shutdown,
 * crash, cannot connect now) plus Node's socket errors.
 */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || ['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code))) return true;
  return e instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection/i.test(e.message);
}

/** Runs fn, again after a lost connection (growing pauses, up to `seconds` in all); other errors pass through. */
export async function withRetry<T>(fn: () => Promise<T>, opts: { seconds: number }): Promise<T> {
  const deadline = Date.now() + opts.seconds * 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isConnectionError(e) || Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}
