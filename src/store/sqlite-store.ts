import type Database from 'better-sqlite3';
import type { TrainEvent, MetricTriple } from '../train/events.js';
import { claimTrial, findTrialRun, peekTrial, registerSweep, type ClaimPolicy, type SweepRecord, type TrialRef } from './claims.js';
import { openDatabase, openStoreForReading, type OpenOptions } from './db.js';
import { getFinalResult, getRun, readSqlite } from './queries.js';
import * as reads from './reads.js';
import type { RunFilter, ScoreFilter, SweepInfo } from './reads.js';
import { createRun, reopenRun, RunRecorder, type NewRun } from './recorder.js';
import type { EndStatus, FinishedReason, RunLease, RunStore, RunWriter, SweepClaimContext, TrialClaim } from './run-store.js';
import { SQL, jobParams, toRecordedSweep, toSweepJob, toTrialProgress, type JobRow, type JobState, type ProgressRow, type RecordedSweep, type SweepJob, type TrialProgress } from './sweep-jobs.js';
import type { CheckpointRecord, EpochRecord, ResultSet, RunRecord, ScoreRecord } from './types.js';
import { UserError } from '../util/errors.js';
import { RUNG_SQL, decisionParams, resultParams, toDecision, toRungRow, type Decide, type DecisionDbRow, type ResultDbRow, type RungRow, type StoredDecision, type StoredRungs } from './rungs.js';

/**
 * The embedded engine: one SQLite file (WAL). better-sqlite3 is synchronous, so each method does
 * its work at once and returns a settled promise; transactions are IMMEDIATE so two processes
 * sharing the file serialise their claims.
 */
export class SqliteRunStore implements RunStore {
  readonly db: Database.Database;

  private readonly artifacts: string | null;

  /** Opens `location` (see openDatabase), or wraps `opts.db`, a database already open on it. */
  constructor(readonly location: string, opts: OpenOptions & { artifacts?: string | null; db?: Database.Database } = {}) {
    this.db = opts.db ?? openDatabase(location, opts);
    this.artifacts = opts.artifacts ?? null;
  }

  /** For commands that only read: a read-only store is still read (see openStoreForReading). */
  static forReading(file: string): SqliteRunStore {
    return new SqliteRunStore(file, { db: openStoreForReading(file) });
  }

  /** The store's reads (reads.ts) run synchronously; an error becomes a rejected promise. */
  private async read<T>(read: reads.Read<T>): Promise<T> {
    return readSqlite(this.db, read);
  }

  getRun(id: string): Promise<RunRecord | null> {
    return this.read(reads.getRunRead(id));
  }

  listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.read(reads.listRunsRead(filter));
  }

  sweepExists(name: string): Promise<boolean> {
    return this.read(reads.sweepExistsRead(name));
  }

  listSweeps(): Promise<SweepInfo[]> {
    return this.read(reads.listSweepsRead());
  }

  getEpochs(runId: string): Promise<EpochRecord[]> {
    return this.read(reads.getEpochsRead(runId));
  }

  getResults(runId: string): Promise<ResultSet[]> {
    return this.read(reads.getResultsRead(runId));
  }

  getFinalResult(runId: string): Promise<ResultSet | null> {
    return this.read(reads.getFinalResultRead(runId));
  }

  getScores(runId: string, opts: ScoreFilter = {}): Promise<ScoreRecord[]> {
    return this.read(reads.getScoresRead(runId, opts));
  }

  getCheckpoints(runId: string): Promise<CheckpointRecord[]> {
    return this.read(reads.getCheckpointsRead(runId));
  }

  async createRun(run: Omit<NewRun, 'dbFile'>): Promise<RunRecord> {
    return createRun(this.db, { ...run, dbFile: this.location, artifacts: this.artifacts });
  }

  resolveRun(ref: string): Promise<RunRecord> {
    return this.read(reads.resolveRunRead(ref));
  }

  async resumeRun(runId: string): Promise<RunLease> {
    return this.db.transaction((): RunLease => {
      const r = getRun(this.db, runId);
      if (!r) throw new UserError(`run ${runId} is not in ${this.location}`);
      if (r.status === 'done') throw new UserError(`run ${r.id} (${r.name}) is already done; nothing to resume`);
      if (r.status === 'running') throw new UserError(`run ${r.id} (${r.name}) is running in process ${r.pid}; it cannot be resumed twice`);
      const resumeFrom = reopenRun(this.db, r.id, { fresh: false });
      return { run: getRun(this.db, r.id)!, resumeFrom };
    }).immediate();
  }

  async registerSweep(sweep: SweepRecord): Promise<void> {
    registerSweep(this.db, sweep, this.location, this.artifacts);
  }

  async findTrialRun(sweep: string, hash: string): Promise<RunRecord | null> {
    return findTrialRun(this.db, sweep, hash);
  }

  async peekTrial(sweep: SweepClaimContext, trial: TrialRef, policy: ClaimPolicy): Promise<'run' | FinishedReason> {
    return peekTrial(this.db, trial, { ...sweep, dbFile: this.location }, policy);
  }

  async claimTrial(sweep: SweepClaimContext, trial: TrialRef, policy: ClaimPolicy): Promise<TrialClaim> {
    const c = claimTrial(this.db, trial, { ...sweep, dbFile: this.location, artifacts: this.artifacts }, policy);
    return c.kind === 'run' ? { kind: 'run', run: c.run, resumeFrom: c.resumeFrom } : c;
  }

  async finalAverage(runId: string): Promise<MetricTriple | null> {
    return getFinalResult(this.db, runId)?.average ?? null;
  }

  async recordJob(job: SweepJob): Promise<void> {
    this.db.prepare(SQL.insertJob).run(...jobParams(job));
  }

  async sweepJobs(sweep: string): Promise<SweepJob[]> {
    return (this.db.prepare(SQL.jobs).all(sweep) as JobRow[]).map(toSweepJob);
  }

  async setJobState(sweep: string, jobId: string, state: JobState): Promise<void> {
    this.db.prepare(SQL.setJobState).run(state, sweep, jobId);
  }

  async recordedSweep(name: string): Promise<RecordedSweep | null> {
    return toRecordedSweep(this.db.prepare(SQL.sweep).get(name) as { name: string; file: string; spec: string } | undefined);
  }

  async sweepProgress(sweep: string): Promise<TrialProgress[]> {
    return (this.db.prepare(SQL.progress).all(sweep) as ProgressRow[]).map(toTrialProgress);
  }

  async rungTable(sweep: string): Promise<StoredRungs> {
    return this.rungsNow(sweep);
  }

  private rungsNow(sweep: string): StoredRungs {
    return {
      results: (this.db.prepare(RUNG_SQL.results).all(sweep) as ResultDbRow[]).map(toRungRow),
      decisions: (this.db.prepare(RUNG_SQL.decisions).all(sweep) as DecisionDbRow[]).map(toDecision),
    };
  }

  async recordRungs(sweep: string, rows: readonly RungRow[], decide: Decide): Promise<StoredDecision[]> {
    return this.db.transaction((): StoredDecision[] => {
      const at = new Date().toISOString();
      for (const r of rows) this.db.prepare(RUNG_SQL.insertResult).run(...resultParams(sweep, r, at));
      const table = this.rungsNow(sweep);
      const ds = decide(table);
      const after = table.decisions.at(-1)?.seq ?? 0;
      for (const p of decisionParams(sweep, after, ds, at)) this.db.prepare(RUNG_SQL.insertDecision).run(...p);
      return ds.map((d, i) => ({ ...d, seq: after + i + 1, decidedAt: at }));
    }).immediate();
  }

  writer(runId: string): RunWriter {
    const rec = new RunRecorder(this.db, runId);
    return {
      runId,
      record: async (e: TrainEvent) => {
        if (e.kind !== 'done') rec.handle(e);
      },
      heartbeat: async () => rec.heartbeat(),
      finish: async (status: EndStatus, error: string | null = null) => rec.finish(status, error),
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
