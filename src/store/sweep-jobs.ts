import type { MetricTriple } from '../events/index.js';
import type { Read } from './reads.js';
import type { RunStatus } from './types.js';

/**
 * What a sweep on a batch system records and reads back: its jobs, the trial list it registered,
 * and each trial run's progress. The SQL is written once with `?` placeholders, run as reads.ts's
 * reads and writes.ts's writes are.
 */

export type JobState = 'submitted' | 'cancelled';

export interface SweepJob {
  sweep: string;
  jobId: string;
  executor: string;
  tasks: number;
  concurrency: number;
  state: JobState;
  host: string;
  submittedAt: string;
}

/** The sweep as its last registration recorded it: enough to follow it from another process or host. */
export interface RecordedSweep {
  name: string;
  file: string;
  profile: string | null;
  trials: Array<{ name: string; hash: string; paper: { auc: number; pauc: number } | null }>;
  /** The validated sweep spec as registered (adaptive sweeps read their search / prune keys from it). */
  spec: unknown;
}

/** One trial run as a follower sees it (the latest stored epoch and the final average, if any). */
export interface TrialProgress {
  runId: string;
  trial: string | null;
  configHash: string;
  status: RunStatus;
  error: string | null;
  host: string;
  pid: number | null;
  heartbeatAt: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  epochs: number;
  startEpoch: number;
  stepsPerEpoch: number;
  lastEpoch: { epoch: number; loss: number; clipsPerSec: number; terms: Record<string, number> } | null;
  result: MetricTriple | null;
}

export const SQL = {
  insertJob: `INSERT INTO sweep_jobs (sweep, job_id, executor, tasks, concurrency, state, host, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (sweep, job_id) DO NOTHING`,
  jobs: `SELECT sweep, job_id, executor, tasks, concurrency, state, host, submitted_at FROM sweep_jobs WHERE sweep = ? ORDER BY submitted_at, job_id`,
  setJobState: `UPDATE sweep_jobs SET state = ? WHERE sweep = ? AND job_id = ?`,
  sweep: `SELECT name, file, spec FROM sweeps WHERE name = ?`,
  progress: `SELECT r.id, r.trial, r.config_hash, r.status, r.error, r.host, r.pid, r.heartbeat_at, r.started_at, r.finished_at, r.config, r.info,
      e.epoch, e.loss, e.clips_per_sec, e.terms, a.auc, a.pauc, a.pauc_mcclish
    FROM runs r
    LEFT JOIN epochs e ON e.run_id = r.id AND e.epoch = (SELECT MAX(epoch) FROM epochs WHERE run_id = r.id)
    LEFT JOIN results a ON a.run_id = r.id AND a.final = 1 AND a.scope = 'average'
      AND a.epoch = (SELECT MAX(epoch) FROM results WHERE run_id = r.id AND final = 1 AND scope = 'average')
    WHERE r.sweep = ?`,
} as const;

export function* sweepJobsRead(sweep: string): Read<SweepJob[]> {
  return ((yield { sql: SQL.jobs, args: [sweep] }) as JobRow[]).map(toSweepJob);
}

export function* recordedSweepRead(name: string): Read<RecordedSweep | null> {
  return toRecordedSweep(
    ((yield { sql: SQL.sweep, args: [name] }) as Array<{ name: string; file: string; spec: string }>)[0],
  );
}

export function* sweepProgressRead(sweep: string): Read<TrialProgress[]> {
  return ((yield { sql: SQL.progress, args: [sweep] }) as ProgressRow[]).map(toTrialProgress);
}

export interface JobRow {
  sweep: string;
  job_id: string;
  executor: string;
  tasks: number;
  concurrency: number;
  state: string;
  host: string;
  submitted_at: string;
}

export const toSweepJob = (r: JobRow): SweepJob => ({
  sweep: r.sweep,
  jobId: r.job_id,
  executor: r.executor,
  tasks: Number(r.tasks),
  concurrency: Number(r.concurrency),
  state: r.state as JobState,
  host: r.host,
  submittedAt: r.submitted_at,
});

export const jobParams = (j: SweepJob): unknown[] => [
  j.sweep,
  j.jobId,
  j.executor,
  j.tasks,
  j.concurrency,
  j.state,
  j.host,
  j.submittedAt,
];

export function toRecordedSweep(r: { name: string; file: string; spec: string } | undefined): RecordedSweep | null {
  if (!r) return null;
  const spec = JSON.parse(r.spec) as { profile?: string | null; trials?: RecordedSweep['trials'] };
  return {
    name: r.name,
    file: r.file,
    profile: spec.profile ?? null,
    trials: (spec.trials ?? []).map((t) => ({ name: t.name, hash: t.hash, paper: t.paper ?? null })),
    spec,
  };
}

export interface ProgressRow {
  id: string;
  trial: string | null;
  config_hash: string;
  status: string;
  error: string | null;
  host: string;
  pid: number | null;
  heartbeat_at: number | null;
  started_at: string | null;
  finished_at: string | null;
  config: string;
  info: string | null;
  epoch: number | null;
  loss: number | null;
  clips_per_sec: number | null;
  terms: string | null;
  auc: number | null;
  pauc: number | null;
  pauc_mcclish: number | null;
}

const num = (x: number | null): number => (x === null ? Number.NaN : Number(x));

export function toTrialProgress(r: ProgressRow): TrialProgress {
  const config = JSON.parse(r.config) as { train?: { epochs?: number } };
  const info = r.info ? (JSON.parse(r.info) as { startEpoch?: number; stepsPerEpoch?: number }) : {};
  return {
    runId: r.id,
    trial: r.trial,
    configHash: r.config_hash,
    status: r.status as RunStatus,
    error: r.error,
    host: r.host,
    pid: r.pid === null ? null : Number(r.pid),
    heartbeatAt: r.heartbeat_at === null ? null : Number(r.heartbeat_at),
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    epochs: config.train?.epochs ?? 0,
    startEpoch: info.startEpoch ?? 1,
    stepsPerEpoch: info.stepsPerEpoch ?? 0,
    lastEpoch:
      r.epoch === null
        ? null
        : {
            epoch: Number(r.epoch),
            loss: num(r.loss),
            clipsPerSec: num(r.clips_per_sec),
            terms: r.terms ? (JSON.parse(r.terms) as Record<string, number>) : {},
          },
    result:
      r.auc === null && r.pauc === null && r.pauc_mcclish === null
        ? null
        : { auc: num(r.auc), pauc: num(r.pauc), paucMcclish: num(r.pauc_mcclish) },
  };
}
