import { maskSecrets } from '../util/secrets.js';

/**
 * The last line of defence for credentials: whatever this process prints on stdout or stderr
 * (commander's own errors quoting an argument, a library's message, a stack) has its passwords
 * masked. Messages are masked where they are made as well; this catches the ones that are not.
 *
 * Masking works on whole lines: a write that ends inside a line is held back until the line's end
 * (a newline or a carriage return) arrives, so a password split across two writes is masked as
 * one. What is still held when the process exits is masked and written then; a line longer than
 * HOLD_LIMIT is let through in pieces (nothing exp prints is that long).
 */
export function maskProcessOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const masker = new LineMasker(stream.write.bind(stream) as RawWrite);
    stream.write = masker.write as typeof stream.write;
    process.once('exit', () => masker.flush());
  }
}

type RawWrite = (chunk: string | Uint8Array, cb?: (err?: Error | null) => void) => boolean;
type Callback = (err?: Error | null) => void;

const HOLD_LIMIT = 1 << 16;

/** Holds the unfinished line of one stream and masks each complete one before it is written. */
export class LineMasker {
  private held = '';

  constructor(private readonly out: RawWrite) {}

  /** stream.write's signature: (chunk, [encoding], [callback]). */
  readonly write = (chunk: unknown, ...rest: unknown[]): boolean => {
    const cb = rest.find((r): r is Callback => typeof r === 'function');
    const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8';
    const text = textOf(chunk, encoding);
    if (text === null) {
      // Bytes that are not UTF-8 text (an image on stdout) pass unchanged, after what is held.
      this.flush();
      return this.out(chunk as Uint8Array, cb);
    }
    const all = this.held + text;
    const end = Math.max(all.lastIndexOf('\n'), all.lastIndexOf('\r')) + 1;
    const ready = all.length - end > HOLD_LIMIT ? all.length : end;
    this.held = all.slice(ready);
    if (ready === 0) {
      // Nothing to write yet: the caller is told its chunk is taken.
      if (cb) process.nextTick(cb);
      return true;
    }
    return this.out(maskSecrets(all.slice(0, ready)), cb);
  };

  /** Writes what is held (at exit, or before bytes that are not text). */
  flush(): void {
    if (this.held === '') return;
    const rest = this.held;
    this.held = '';
    this.out(maskSecrets(rest));
  }
}

function textOf(chunk: unknown, encoding: BufferEncoding): string | null {
  if (typeof chunk === 'string') return encoding === 'utf8' ? chunk : Buffer.from(chunk, encoding).toString('utf8');
  if (chunk instanceof Uint8Array) {
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
    return text.includes('\uFFFD') ? null : text;
  }
  return null;
}
