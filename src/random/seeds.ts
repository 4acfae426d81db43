/** 32-bit FNV-1a hash of a string (a stream seed from a name). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A 32-bit seed from any list of parts (FNV-1a over their text, then murmur3's finaliser). */
export function seedFrom(...parts: Array<string | number>): number {
  let h = hashString(parts.join('\u0000'));
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The seed of a model module's weight stream: the run seed mixed with the module's name, so adding
 * or renaming one branch does not change the others' weights.
 */
export function deriveSeed(seed: number, name: string): number {
  return (hashString(name) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
}
