import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

/** Hex MD5 of a file, streamed (archives are gigabytes). */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** md5sum's format: `<32 hex>  <file>` (or `<hex> *<file>`), one per line; `#` comments allowed. */
export function parseMd5List(text: string, source: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([0-9a-fA-F]{32})\s+\*?(.+)$/.exec(line);
    if (!m) throw new Error(`${source}:${i + 1}: expected "<md5 hex>  <file name>", got ${JSON.stringify(line)}`);
    out.set((m[2] as string).trim(), (m[1] as string).toLowerCase());
  });
  return out;
}
