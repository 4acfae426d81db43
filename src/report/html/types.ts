import type { TopLevelSpec } from 'vega-lite';
import type { ManifestClip } from '../../data/synth/manifest.js';
import type { EpochRecord, ResultSet, RunRecord, ScoreRecord } from '../../store/types.js';
import type { TrialRow } from '../rows.js';
import type { AdaptiveRecord } from '../adaptive.js';

/** Everything the HTML report shows about one run, read from the store once (load.ts). */
export interface ReportRun {
  run: RunRecord;
  /** How the run is named in legends: its trial name in a sweep, else its run name. */
  label: string;
  epochs: EpochRecord[];
  /** train.evalEvery evaluations, by epoch (not the final one). */
  evals: ResultSet[];
  final: ResultSet | null;
  /** The final evaluation's per-clip scores. */
  scores: ScoreRecord[];
  /** The built-in synthetic set's fault record for these clips, when the run used it. */
  synth: { file: string; clips: Map<string, ManifestClip> } | null;
  /** Why there is no fault record (shown in the report instead of the breakdown). */
  synthNote: string | null;
}

/** A sweep (its trials in the sweep's row order) or the loose runs named on the command line. */
export interface ReportGroup {
  title: string;
  sweep: string | null;
  rows: TrialRow[];
  runs: ReportRun[];
  /** Adaptive sweeps: the objective and the stored rung table (rung chart, test-selection warning). */
  adaptive?: AdaptiveRecord | null;
}

export interface ReportInput {
  groups: ReportGroup[];
  /** The store it was read from (shown in the header). */
  db: string;
  refs: string[];
}

/** One figure: its file-safe name (for --png), caption and vega-lite spec (data inline). */
export interface FigureSpec {
  name: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}
