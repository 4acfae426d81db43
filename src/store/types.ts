import type { ExperimentConfig } from '../config/schema.js';
import type { MetricTriple } from '../events/index.js';

/**
 * `paused` and `pruned` belong to adaptive sweeps (src/sweep/search/): paused at a rung with a
 * checkpoint, waiting for the scheduler; pruned = stopped at a rung for good.
 */
export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'interrupted' | 'paused' | 'pruned';
export const RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'done',
  'failed',
  'interrupted',
  'paused',
  'pruned',
];

/** A run as the CLI and reports see it (camelCase view of a `runs` row). */
export interface RunRecord {
  id: string;
  name: string;
  sweep: string | null;
  trial: string | null;
  trialIndex: number | null;
  profile: string | null;
  /** The paper's value for this trial (%); `types`: Table 2's per-machine-type values. */
  paper: { auc: number; pauc: number; types?: Record<string, { auc: number; pauc: number }> } | null;
  status: RunStatus;
  config: ExperimentConfig;
  configHash: string;
  seed: number;
  backend: string | null;
  threads: number | null;
  info: Record<string, unknown> | null;
  gitCommit: string | null;
  gitDirty: boolean | null;
  packages: Record<string, string>;
  host: string;
  pid: number | null;
  heartbeatAt: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  runDir: string | null;
}

export interface EpochRecord {
  epoch: number;
  loss: number | null;
  terms: Record<string, number>;
  lr: number | null;
  clipsPerSec: number | null;
  seconds: number | null;
  valLoss: number | null;
  /** ID-classification accuracy on the validation clips (migration 004); null when not measured. */
  valAcc: number | null;
}

/** One evaluation's metrics: per ID, per type and the average (values in [0, 1]). */
export interface ResultSet {
  epoch: number;
  final: boolean;
  ids: Array<MetricTriple & { type: string; id: string }>;
  types: Record<string, MetricTriple>;
  average: MetricTriple | null;
}

export interface ScoreRecord {
  epoch: number;
  final: boolean;
  path: string;
  type: string;
  id: string;
  label: 0 | 1;
  score: number;
}

export interface CheckpointRecord {
  epoch: number;
  path: string;
  best: boolean;
  createdAt: string;
}
