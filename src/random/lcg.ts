/**
 * Numerical Recipes' 32-bit linear congruential generator (a = 1664525, c = 1013904223): the
 * raw state after each step. Statistically weak, used only for benchmark inputs, which need
 * shapes and a fixed sequence, not quality.
 */
export function lcg32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}
