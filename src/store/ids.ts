import { randomBytes } from 'node:crypto';

/**
 * A short readable run id: base36 milliseconds (sorts by creation time) + 4 random base36 chars,
 * e.g. `mb3k9x2a-7f3q`. Unique enough for one lab's store; the primary key catches the rest.
 */
export function newRunId(now = Date.now()): string {
  const rand = randomBytes(4).readUInt32BE(0).toString(36).padStart(4, '0').slice(-4);
  return `${now.toString(36)}-${rand}`;
}
