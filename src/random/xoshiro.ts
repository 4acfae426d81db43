/**
 * Seeded sampling for mixup (§2.3 Noisy-ArcMix: one lambda ~ Beta(alpha, alpha) and one shuffled
 * partner per batch). Our own generator, not Math.random, so the same run seed gives the same
 * mixup on every machine, and its whole state is four integers that a checkpoint can store and
 * restore (resume continues the exact sequence).
 */

/** The serialisable state of a SeededRandom: xoshiro128** words, each an unsigned 32-bit int. */
export type RandomState = [number, number, number, number];

/** splitmix32: spreads a 32-bit seed over the four state words (xoshiro must not start at all 0). */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** xoshiro128** (Blackman & Vigna) with Beta / Gamma / normal draws and permutations. */
export class SeededRandom {
  private s: RandomState;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`SeededRandom: seed must be an integer, got ${seed}`);
    const next = splitmix32(seed);
    this.s = [next(), next(), next(), next()];
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  /** A copy of the state, safe to JSON-serialise into a checkpoint. */
  getState(): RandomState {
    return [...this.s];
  }

  setState(state: readonly number[]): void {
    if (
      state.length !== 4 ||
      !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) ||
      state.every((w) => w === 0)
    ) {
      throw new RangeError(
        `SeededRandom.setState: expected four unsigned 32-bit integers, not all 0, got ${JSON.stringify(state)}`,
      );
    }
    this.s = [state[0]!, state[1]!, state[2]!, state[3]!];
  }

  /** Next raw 32-bit output. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in (0, 1): for logs and powers. */
  private open01(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    return u;
  }

  /** Standard normal (Box-Muller; the second value is dropped so the state stays four words). */
  normal(): number {
    const u = this.open01();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Gamma(shape, 1) by Marsaglia & Tsang (2000); for shape < 1 the boost
   * Gamma(shape) = Gamma(shape + 1) * U^(1 / shape).
   */
  gamma(shape: number): number {
    if (!(shape > 0) || !Number.isFinite(shape))
      throw new RangeError(`gamma: shape must be a positive number, got ${shape}`);
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.open01(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.open01();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b). */
  beta(a: number, b: number = a): number {
    for (;;) {
      const x = this.gamma(a);
      const y = this.gamma(b);
      // Both can underflow to 0 for tiny shapes; draw again rather than return 0/0.
      if (x + y > 0) return x / (x + y);
    }
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`permutation: n must be a whole number, got ${n}`);
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
