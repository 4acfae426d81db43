import type { Rng } from '../../random/index.js';

/**
 * Severity mixture: about a third subtle, most medium, a quarter strong. Subtle faults are
 * meant to be hard or impossible to hear under the background, as in the real data.
 */
export function drawSeverity(rng: Rng): number {
  const r = rng.next();
  if (r < 0.35) return rng.uniform(0.08, 0.2);
  if (r < 0.75) return rng.uniform(0.2, 0.5);
  return rng.uniform(0.5, 1);
}
