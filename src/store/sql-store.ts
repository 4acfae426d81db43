import type { MetricTriple, TrainEvent } from '../events/index.js';
import * as reads from './reads.js';
import type { Read, RunFilter, ScoreFilter, SweepInfo } from './reads.js';
import type { RunStore, RunWriter, SweepClaimContext, TrialClaim, RunLease } from './run-store.js';
import {
  recordedSweepRead,
  sweepJobsRead,
  sweepProgressRead,
  type JobState,
  type RecordedSweep,
  type SweepJob,
  type TrialProgress,
} from './sweep-jobs.js';
import type { CheckpointRecord, EpochRecord, ResultSet, RunRecord, ScoreRecord } from './types.js';
import {
  recordRungsWrite,
  rungTableRead,
  type Decide,
  type RungRow,
  type StoredDecision,
  type StoredRungs,
} from './rungs.js';
import * as writes from './writes.js';
import type { ClaimPolicy, EndStatus, FinishedReason, NewRun, SweepRecord, TrialRef, Write } from './writes.js';

/** A step event renews the lease at most this often (every other event renews it in its own write). */
const STEP_BEAT_MS = 1000;

/**
 * The run store on either engine: every read is reads.ts's, every write writes.ts's. An engine
 * supplies only how a read runs, how a write runs as one transaction, and how it closes.
 */
export abstract class SqlRunStore implements RunStore {
  constructor(
    readonly location: string,
    protected readonly artifacts: string | null,
  ) {}

  /** Runs a read (`make` is called again when an engine retries it from its first query). */
  protected abstract read<T>(make: () => Read<T>): Promise<T>;

  /** Runs a write as one transaction (`retried`: see writes.ts's WriteRunner). */
  protected abstract write<T>(make: (retried: boolean) => Write<T>): Promise<T>;

  abstract close(): Promise<void>;

  resolveRun(ref: string): Promise<RunRecord> {
    return this.read(() => reads.resolveRunRead(ref));
  }

  getRun(id: string): Promise<RunRecord | null> {
    return this.read(() => reads.getRunRead(id));
  }

  listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.read(() => reads.listRunsRead(filter));
  }

  sweepExists(name: string): Promise<boolean> {
    return this.read(() => reads.sweepExistsRead(name));
  }

  listSweeps(): Promise<SweepInfo[]> {
    return this.read(() => reads.listSweepsRead());
  }

  getEpochs(runId: string): Promise<EpochRecord[]> {
    return this.read(() => reads.getEpochsRead(runId));
  }

  getResults(runId: string): Promise<ResultSet[]> {
    return this.read(() => reads.getResultsRead(runId));
  }

  getFinalResult(runId: string): Promise<ResultSet | null> {
    return this.read(() => reads.getFinalResultRead(runId));
  }

  getScores(runId: string, opts: ScoreFilter = {}): Promise<ScoreRecord[]> {
    return this.read(() => reads.getScoresRead(runId, opts));
  }

  getCheckpoints(runId: string): Promise<CheckpointRecord[]> {
    return this.read(() => reads.getCheckpointsRead(runId));
  }

  findTrialRun(sweep: string, hash: string): Promise<RunRecord | null> {
    return this.read(() => reads.findTrialRunRead(sweep, hash));
  }

  async finalAverage(runId: string): Promise<MetricTriple | null> {
    return (await this.getFinalResult(runId))?.average ?? null;
  }

  sweepJobs(sweep: string): Promise<SweepJob[]> {
    return this.read(() => sweepJobsRead(sweep));
  }

  recordedSweep(name: string): Promise<RecordedSweep | null> {
    return this.read(() => recordedSweepRead(name));
  }

  sweepProgress(sweep: string): Promise<TrialProgress[]> {
    return this.read(() => sweepProgressRead(sweep));
  }

  rungTable(sweep: string): Promise<StoredRungs> {
    return this.read(() => rungTableRead(sweep));
  }

  recordRungs(sweep: string, rows: readonly RungRow[], decide: Decide): Promise<StoredDecision[]> {
    return this.write(() => recordRungsWrite(sweep, rows, decide));
  }

  createRun(run: Omit<NewRun, 'dbFile'>): Promise<RunRecord> {
    // The id is fixed before the first attempt, so a retried insert finds its own row.
    const row = writes.newRunRow({ ...run, dbFile: this.location, artifacts: this.artifacts });
    return this.write(() => writes.createRunWrite(row));
  }

  resumeRun(runId: string): Promise<RunLease> {
    return this.write((retried) => writes.resumeRunWrite(runId, this.location, retried));
  }

  registerSweep(sweep: SweepRecord): Promise<void> {
    return this.write(() => writes.registerSweepWrite(sweep, this.location, this.artifacts));
  }

  async peekTrial(sweep: SweepClaimContext, trial: TrialRef, policy: ClaimPolicy): Promise<'run' | FinishedReason> {
    const row = await this.findTrialRun(sweep.sweep, trial.hash);
    if (!row) return 'run';
    const d = writes.decideClaim(row, policy);
    return d.kind === 'skip' ? d.reason : 'run';
  }

  claimTrial(sweep: SweepClaimContext, trial: TrialRef, policy: ClaimPolicy): Promise<TrialClaim> {
    const ctx = { ...sweep, location: this.location, artifacts: this.artifacts };
    return this.write((retried) => writes.claimTrialWrite(ctx, trial, policy, retried));
  }

  recordJob(job: SweepJob): Promise<void> {
    return this.write(() => writes.recordJobWrite(job));
  }

  endLostRun(runId: string, heartbeatAt: number | null, error: string): Promise<boolean> {
    return this.write(() => writes.endLostRunWrite(runId, heartbeatAt, error));
  }

  setJobState(sweep: string, jobId: string, state: JobState): Promise<void> {
    return this.write(() => writes.setJobStateWrite(sweep, jobId, state));
  }

  writer(runId: string): RunWriter {
    let lastBeat = 0;
    const beat = () => {
      lastBeat = Date.now();
      return this.write(() => writes.heartbeatWrite(runId));
    };
    return {
      runId,
      record: async (e: TrainEvent) => {
        if (e.kind === 'done') return;
        if (e.kind === 'step') {
          if (Date.now() - lastBeat >= STEP_BEAT_MS) await beat();
          return;
        }
        lastBeat = Date.now();
        await this.write(() => writes.recordEventWrite(runId, e));
      },
      heartbeat: beat,
      finish: (status: EndStatus, error: string | null = null) =>
        this.write(() => writes.finishRunWrite(runId, status, error)),
    };
  }
}
