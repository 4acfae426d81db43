import { mulberry32 } from './mulberry32.js';

/** Convenience draws on top of a mulberry32 stream (the synthetic set, data subsets, weight init). */
export class Rng {
  readonly next: () => number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hiInclusive: number): number {
    return lo + Math.floor(this.next() * (hiInclusive - lo + 1));
  }
  /** Standard normal (Box-Muller, the second value of each pair cached for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const [c, s] = boxMuller(this.next);
    this.spare = s;
    return c;
  }
  /**
   * Standard normal, one Box-Muller pair per call (the second value is dropped): the draw order
   * weight initialisation has always used, kept so stored runs' weights stay the same.
   */
  gaussian(): number {
    return boxMuller(this.next)[0];
  }
  /** exp(N(0, sigma)): a multiplicative jitter. */
  logNormal(sigma: number): number {
    return Math.exp(sigma * this.normal());
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

/** Two independent standard normals from two uniforms (u kept away from 0 for the log). */
function boxMuller(next: () => number): [number, number] {
  let u = next();
  while (u <= 1e-12) u = next();
  const r = Math.sqrt(-2 * Math.log(u));
  const th = 2 * Math.PI * next();
  return [r * Math.cos(th), r * Math.sin(th)];
}
