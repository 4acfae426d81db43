/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): one 32-bit word of state, a Weyl step and an
 * output mix. Small, fast and well mixed; our own rather than Math.random or tf.random* so every
 * stream is the same on every machine, backend and Node version.
 */

/** The Weyl increment added to the state before each output. */
export const MULBERRY32_STEP = 0x6d2b79f5;

/** The output word (unsigned 32-bit) for a state that has just been stepped. */
export function mulberry32Mix(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** A mulberry32 stream, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + MULBERRY32_STEP) >>> 0;
    return mulberry32Mix(a) / 4294967296;
  };
}
