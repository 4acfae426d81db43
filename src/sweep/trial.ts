import type { ExperimentConfig } from '../config/schema.js';
import type { Point } from './search/space.js';

/** One trial of a sweep: a validated experiment config and its identity (the canonical config hash). */
export interface Trial {
  /** Position in the sweep (row order of the paper's table). */
  index: number;
  name: string;
  config: ExperimentConfig;
  hash: string;
  /** The paper's reference value for this trial (%), shown beside ours. */
  paper: { auc: number; pauc: number; types?: Record<string, { auc: number; pauc: number }> } | null;
  /** What this trial changes relative to the base, for reports. */
  set: Record<string, unknown>;
}

/** Builds the trial(s) of one configuration of an adaptive sweep: one per seed, or one. */
export type TrialMaker = (unit: number, point: Point) => Trial[];
