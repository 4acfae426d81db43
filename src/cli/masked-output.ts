import { maskSecrets } from '../util/secrets.js';

/**
 * The last line of defence for credentials: whatever this process prints on stdout or stderr
 * (commander's own errors quoting an argument, a library's message, a stack) has its passwords
 * masked. Messages are masked where they are made as well; this catches the ones that are not.
 * A secret split across two writes is not seen; exp writes whole lines.
 */
export function maskProcessOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => write(masked(chunk), ...rest)) as typeof stream.write;
  }
}

function masked(chunk: unknown): unknown {
  if (typeof chunk === 'string') return maskSecrets(chunk);
  if (chunk instanceof Uint8Array) {
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
    const out = maskSecrets(text);
    // Only text is rewritten; bytes that are not UTF-8 pass unchanged.
    return out !== text && !text.includes('\uFFFD') ? Buffer.from(out, 'utf8') : chunk;
  }
  return chunk;
}
