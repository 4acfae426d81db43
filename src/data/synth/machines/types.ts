import type { Rng } from '../../../random/index.js';

/** An anomaly to render into a clip; severity in (0, 1], small = subtle. */
export interface Fault {
  kind: string;
  severity: number;
}

/**
 * One synthetic machine type. `render` draws the ID's fixed parameters from `idRng` (seeded by
 * seed, type and ID only, so every clip of an ID shares them) and the clip's own variation from
 * `rng`; it returns the machine sound alone (background noise is added by the caller) and the
 * RMS of its normal part, so a fault adds energy instead of being normalised away.
 */
export interface Machine {
  readonly type: string;
  readonly faults: readonly string[];
  render(idRng: Rng, rng: Rng, n: number, sr: number, fault: Fault | null): MachineSound;
}

export interface MachineSound {
  sound: Float32Array;
  /** RMS of the machine without the added fault components. */
  level: number;
}
