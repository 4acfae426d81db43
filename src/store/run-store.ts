import type { MetricTriple, TrainEvent } from '../events/index.js';
import type {
  ClaimPolicy,
  ClaimResult,
  EndStatus,
  FinishedReason,
  NewRun,
  RunLeaseRecord,
  SweepRecord,
  TrialRef,
} from './writes.js';
import type { RecordedSweep, SweepJob, TrialProgress, JobState } from './sweep-jobs.js';
import type { RunFilter, ScoreFilter, SweepInfo } from './reads.js';
import type { Decide, RungRow, StoredDecision, StoredRungs } from './rungs.js';
import type { CheckpointRecord, EpochRecord, ResultSet, RunRecord, ScoreRecord } from './types.js';

/**
 * What the reading commands (`exp runs / show / compare / metrics / export / report`) and the
 * sweep summary see of a store, on either engine; the SQL is shared (reads.ts).
 */
export interface RunReader {
  /** Where the store lives (a file path or a URL, password hidden), for messages. */
  readonly location: string;
  /** A run by id, unique id prefix, run name or trial name; UserError when none or several match. */
  resolveRun(ref: string): Promise<RunRecord>;
  getRun(id: string): Promise<RunRecord | null>;
  /** Runs in creation order. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** Whether a sweep of this name is registered or has runs. */
  sweepExists(name: string): Promise<boolean>;
  listSweeps(): Promise<SweepInfo[]>;
  getEpochs(runId: string): Promise<EpochRecord[]>;
  /** Every evaluation of a run, the evalEvery ones by epoch and then the final one. */
  getResults(runId: string): Promise<ResultSet[]>;
  getFinalResult(runId: string): Promise<ResultSet | null>;
  getScores(runId: string, opts?: ScoreFilter): Promise<ScoreRecord[]>;
  getCheckpoints(runId: string): Promise<CheckpointRecord[]>;
  /** An adaptive sweep's rung results and pruning decisions (empty for other sweeps). */
  rungTable(sweep: string): Promise<StoredRungs>;
  close(): Promise<void>;
}

/**
 * The store as a run session and a sweep engine see it. Every method is async so that an engine
 * with a network client (PostgreSQL) fits behind the same interface as the embedded SQLite one.
 */
export interface RunStore extends RunReader {
  /** Inserts a run, running and leased to this process unless `status` says otherwise. */
  createRun(run: Omit<NewRun, 'dbFile'>): Promise<RunRecord>;
  /**
   * Takes an interrupted, failed or stale run back for this process (writes.ts's resumeRefusal:
   * a run whose lease ran out is taken over); UserError when done or held by a live process.
   */
  resumeRun(runId: string): Promise<RunLease>;
  registerSweep(sweep: SweepRecord): Promise<void>;
  findTrialRun(sweep: string, hash: string): Promise<RunRecord | null>;
  /** What claimTrial would do now, without taking anything. */
  peekTrial(sweep: SweepClaimContext, trial: TrialRef, policy: ClaimPolicy): Promise<'run' | FinishedReason>;
  /** Takes the trial for this process atomically, or says why not. */
  claimTrial(sweep: SweepClaimContext, trial: TrialRef, policy: ClaimPolicy): Promise<TrialClaim>;
  finalAverage(runId: string): Promise<MetricTriple | null>;
  /** A batch job a sweep submitted (the Slurm executor), so other processes and hosts can find it. */
  recordJob(job: SweepJob): Promise<void>;
  sweepJobs(sweep: string): Promise<SweepJob[]>;
  setJobState(sweep: string, jobId: string, state: JobState): Promise<void>;
  /** A running run whose worker is gone (its batch task ended): interrupted with `error`, unless it beat since `heartbeatAt` was read. */
  endLostRun(runId: string, heartbeatAt: number | null, error: string): Promise<boolean>;
  /** The sweep's trial list as its last registration recorded it, or null for an unknown sweep. */
  recordedSweep(name: string): Promise<RecordedSweep | null>;
  /** Every trial run of the sweep with its latest stored epoch and final average (a follower's view). */
  sweepProgress(sweep: string): Promise<TrialProgress[]>;
  /**
   * Stores rung results and, in the same transaction (the sweep locked), the decisions `decide`
   * computes from the table including them; returns the decisions appended.
   */
  recordRungs(sweep: string, rows: readonly RungRow[], decide: Decide): Promise<StoredDecision[]>;
  /** The write side of one run (its events, its lease, its end). */
  writer(runId: string): RunWriter;
}

export type RunLease = RunLeaseRecord;

export type { FinishedReason, EndStatus };

export type TrialClaim = ClaimResult;

export interface SweepClaimContext {
  sweep: string;
  profile: string | null;
}

export interface RunWriter {
  readonly runId: string;
  /** Stores one event atomically ('done' is not stored: finish() ends the run). */
  record(e: TrainEvent): Promise<void>;
  /** Renews the run's lease. */
  heartbeat(): Promise<void>;
  finish(status: EndStatus, error?: string | null): Promise<void>;
}
