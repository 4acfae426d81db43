import { SeededRandom } from '../random/index.js';
import type { Range } from './plan.js';

/** One optimizer step's clips (positions in the split), each clip's mixup partner, and the mixup weight. */
export interface PlannedStep {
  rows: number[];
  partners: number[];
  /** Mixup weight lambda ~ Beta(alpha, alpha); 1 without mixup. */
  lam: number;
}

/** Per-epoch generator: shuffles and mixup draws depend only on (seed, epoch), so a resumed run replays them exactly. */
function epochRng(seed: number, epoch: number): SeededRandom {
  return new SeededRandom(seed * 1_000_003 + epoch * 7919 + 17);
}

/**
 * Every step of one (1-based) epoch: the clips shuffled by (seed, epoch), cut by `batches`; per
 * step one permutation of the batch for the mixup partners and one lambda ~ Beta(alpha, alpha)
 * (TASTgram's Noisy-ArcMix: one lambda and one permutation per batch). `mixAlpha` null = no
 * mixup (lambda 1, the permutation is still drawn so the stream does not depend on it). A pure
 * function of its arguments: the trainer and the PyTorch fidelity harness (tools/fidelity/) read
 * the same plan.
 */
export function epochPlan(
  seed: number,
  epoch: number,
  count: number,
  batches: readonly Range[],
  mixAlpha: number | null,
): PlannedStep[] {
  const rng = epochRng(seed, epoch);
  const order = rng.permutation(count);
  return batches.map((range) => {
    const rows = order.slice(...range);
    const perm = rng.permutation(rows.length);
    const lam = mixAlpha !== null ? rng.beta(mixAlpha, mixAlpha) : 1;
    return { rows, partners: perm.map((k) => rows[k]!), lam };
  });
}
