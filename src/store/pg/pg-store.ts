import pg from 'pg';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { MetricTriple, TrainEvent, EvalEvent } from '../../train/events.js';
import { decideClaim, type ClaimPolicy, type SweepRecord, type TrialRef } from '../claims.js';
import { toRunRecord, type RunRow } from '../queries.js';
import * as reads from '../reads.js';
import type { RunFilter, ScoreFilter, SweepInfo } from '../reads.js';
import { newRunRow, type NewRun } from '../recorder.js';
import type { EndStatus, FinishedReason, RunLease, RunStore, RunWriter, SweepClaimContext, TrialClaim } from '../run-store.js';
import { SQL, jobParams, pgParams, toRecordedSweep, toSweepJob, toTrialProgress, type JobRow, type JobState, type ProgressRow, type RecordedSweep, type SweepJob, type TrialProgress } from '../sweep-jobs.js';
import type { CheckpointRecord, EpochRecord, ResultSet, RunRecord, ScoreRecord } from '../types.js';
import { UserError, messageOf } from '../../util/errors.js';
import { maskPassword } from '../../util/db-location.js';
import { migratePostgres, schemaVersionPostgres } from './schema.js';
import { migrations } from '../migrations/index.js';
import { withRetry } from './retry.js';
import { RUNG_SQL, decisionParams, resultParams, toDecision, toRungRow, type Decide, type DecisionDbRow, type ResultDbRow, type RungRow, type StoredDecision, type StoredRungs } from '../rungs.js';
import { DEFAULT_STALE_SECONDS, leaseAlive } from '../stale.js';

const iso = (ms = Date.now()): string => new Date(ms).toISOString();
const real = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);
// BIGINT (heartbeats in epoch ms) as a JS number, not a string; safe below 2^53.
const types = { getTypeParser: (oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) };

export interface PgStoreOptions {
  artifacts?: string | null;
  /** How long a lost connection is retried before the operation fails (default 60 s). */
  retrySeconds?: number;
  /**
   * For commands that only read: a store already at this exp's schema is not touched, so a role
   * granted SELECT alone can read it (an older schema is still migrated, which needs more).
   */
  forReading?: boolean;
}

/**
 * The shared engine: a PostgreSQL database many workers on many hosts write at once. Claims lock
 * the trial's row with FOR UPDATE SKIP LOCKED; every write is an idempotent upsert in its own
 * transaction, so an operation retried after a lost connection never records anything twice.
 */
export class PgRunStore implements RunStore {
  private constructor(
    readonly location: string,
    private readonly pool: pg.Pool,
    private readonly opts: PgStoreOptions,
  ) {}

  static async open(url: string, opts: PgStoreOptions = {}): Promise<PgRunStore> {
    const pool = new pg.Pool({ connectionString: url, max: 4, types, connectionTimeoutMillis: 10_000 });
    // An idle client losing its server (a restart) must not crash the process; the next query retries.
    pool.on('error', () => undefined);
    const store = new PgRunStore(maskPassword(url), pool, opts);
    try {
      await store.retry(async () => {
        const client = await pool.connect();
        try {
          const current = opts.forReading ? await schemaVersionPostgres(client, store.location) : null;
          if (current !== migrations.length) await migratePostgres(client, store.location);
        } finally {
          client.release();
        }
      });
    } catch (e) {
      await pool.end();
      if (e instanceof UserError) throw e;
      throw new UserError(`${store.location}: cannot open the run store: ${messageOf(e)}`);
    }
    return store;
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { seconds: this.opts.retrySeconds ?? 60 });
  }

  /** One transaction, retried whole after a lost connection. */
  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.retry(async () => {
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    });
  }

  private async runIn(c: pg.ClientBase, id: string): Promise<RunRecord | null> {
    const r = await c.query<RunRow>('SELECT * FROM runs WHERE id = $1', [id]);
    return r.rows[0] ? toRunRecord(r.rows[0]) : null;
  }

  private async insertRun(c: pg.ClientBase, row: Record<string, string | number | null>): Promise<void> {
    const cols = Object.keys(row);
    await c.query(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (id) DO NOTHING`, Object.values(row));
  }

  async createRun(run: Omit<NewRun, 'dbFile'>): Promise<RunRecord> {
    // The id is fixed before the first attempt, so a retried insert finds its own row.
    const row = newRunRow({ ...run, dbFile: this.location, artifacts: this.opts.artifacts ?? null });
    return this.tx(async (c) => {
      await this.insertRun(c, row);
      return (await this.runIn(c, row.id as string))!;
    });
  }

  /** A read (reads.ts) on the pool; retried whole, from its first query, after a lost connection. */
  private read<T>(make: () => reads.Read<T>): Promise<T> {
    return this.retry(() => reads.runReadAsync(make(), async (q) => (await this.pool.query(toPgSql(q.sql), q.args)).rows as unknown[]));
  }

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

  async resumeRun(runId: string): Promise<RunLease> {
    return this.tx(async (c) => {
      const r = (await c.query<RunRow>('SELECT * FROM runs WHERE id = $1 FOR UPDATE', [runId])).rows[0];
      if (!r) throw new UserError(`run ${runId} is not in ${this.location}`);
      const run = toRunRecord(r);
      if (run.status === 'done') throw new UserError(`run ${run.id} (${run.name}) is already done; nothing to resume`);
      // A run whose lease ran out (its process is gone here, or silent past the lease elsewhere)
      // is taken over, as a sweep worker would take over a trial; a live one is not.
      const held = leaseAlive({ host: run.host, pid: run.pid, heartbeat_at: run.heartbeatAt }, DEFAULT_STALE_SECONDS);
      if (run.status === 'running' && !mine(run) && held) throw new UserError(`run ${run.id} (${run.name}) is running in process ${run.pid} on ${run.host}; it cannot be resumed twice`);
      const resumeFrom = await this.reopen(c, run.id, false);
      return { run: (await this.runIn(c, run.id))!, resumeFrom };
    });
  }

  /** Takes a run back for this process (see recorder.reopenRun). */
  private async reopen(c: pg.ClientBase, runId: string, fresh: boolean): Promise<string | null> {
    let resumeFrom: string | null = null;
    if (!fresh) {
      const cp = (await c.query<{ path: string }>('SELECT path FROM checkpoints WHERE run_id = $1 ORDER BY epoch DESC LIMIT 1', [runId])).rows[0];
      if (cp && existsSync(cp.path)) resumeFrom = cp.path;
    }
    if (resumeFrom === null) for (const t of ['epochs', 'results', 'scores', 'checkpoints']) await c.query(`DELETE FROM ${t} WHERE run_id = $1`, [runId]);
    const now = Date.now();
    await c.query(`UPDATE runs SET status = 'running', pid = $1, host = $2, heartbeat_at = $3, started_at = $4, finished_at = NULL, error = NULL WHERE id = $5`, [
      process.pid, hostname(), now, iso(now), runId,
    ]);
    return resumeFrom;
  }

  async registerSweep(sweep: SweepRecord): Promise<void> {
    const now = iso();
    const spec = { ...(sweep.spec as object), profile: sweep.profile, trials: sweep.trials.map((t) => ({ name: t.name, hash: t.hash, paper: t.paper, set: t.set })) };
    await this.tx(async (c) => {
      await c.query(
        `INSERT INTO sweeps (name, file, spec, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (name) DO UPDATE SET file = excluded.file, spec = excluded.spec, updated_at = excluded.updated_at`,
        [sweep.name, sweep.file, JSON.stringify(spec), now],
      );
      for (const t of sweep.trials) {
        const row = newRunRow({ name: `${sweep.name}/${t.name}`, config: t.config, sweep: sweep.name, trial: t.name, trialIndex: t.index, profile: sweep.profile, paper: t.paper, status: 'queued', dbFile: this.location, artifacts: this.opts.artifacts ?? null });
        const cols = Object.keys(row);
        // The unique (sweep, config_hash) index makes this a no-op for a trial already stored.
        await c.query(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`, Object.values(row));
      }
    });
  }

  async findTrialRun(sweep: string, hash: string): Promise<RunRecord | null> {
    const r = await this.retry(() => this.pool.query<RunRow>('SELECT * FROM runs WHERE sweep = $1 AND config_hash = $2', [sweep, hash]));
    return r.rows[0] ? toRunRecord(r.rows[0]) : null;
  }

  async peekTrial(sweep: SweepClaimContext, trial: TrialRef, policy: ClaimPolicy): Promise<'run' | FinishedReason> {
    const row = await this.findTrialRun(sweep.sweep, trial.hash);
    if (!row) return 'run';
    const d = decideClaim(row, policy);
    return d.kind === 'skip' ? d.reason : 'run';
  }

  /**
   * Claims a trial: its row is locked FOR UPDATE SKIP LOCKED, so of many workers asking at once
   * one gets it and the others see it busy without waiting; a new trial's row is inserted with ON
   * CONFLICT DO NOTHING on the unique (sweep, config_hash) index.
   */
  async claimTrial(sweep: SweepClaimContext, trial: TrialRef, policy: ClaimPolicy): Promise<TrialClaim> {
    return this.tx(async (c): Promise<TrialClaim> => {
      const locked = (await c.query<RunRow>('SELECT * FROM runs WHERE sweep = $1 AND config_hash = $2 FOR UPDATE SKIP LOCKED', [sweep.sweep, trial.hash])).rows[0];
      if (!locked) {
        const row = newRunRow({ name: `${sweep.sweep}/${trial.name}`, config: trial.config, sweep: sweep.sweep, trial: trial.name, trialIndex: trial.index, profile: sweep.profile, paper: trial.paper, dbFile: this.location, artifacts: this.opts.artifacts ?? null });
        const cols = Object.keys(row);
        const ins = await c.query(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING RETURNING id`, Object.values(row));
        if (ins.rowCount === 1) return { kind: 'run', run: (await this.runIn(c, row.id as string))!, resumeFrom: null };
        const other = (await c.query<RunRow>('SELECT * FROM runs WHERE sweep = $1 AND config_hash = $2', [sweep.sweep, trial.hash])).rows[0]!;
        return { kind: 'skip', run: toRunRecord(other), reason: 'busy' };
      }
      const run = toRunRecord(locked);
      // A claim that committed before its connection dropped comes back here as our own lease.
      const d = run.status === 'running' && mine(run) ? { kind: 'run' as const, fresh: false } : decideClaim(run, policy);
      if (d.kind === 'skip') return { kind: 'skip', run, reason: d.reason };
      const resumeFrom = await this.reopen(c, run.id, d.fresh);
      return { kind: 'run', run: (await this.runIn(c, run.id))!, resumeFrom };
    });
  }

  async finalAverage(runId: string): Promise<MetricTriple | null> {
    const r = await this.retry(() =>
      this.pool.query<{ auc: number | null; pauc: number | null; pauc_mcclish: number | null }>(
        `SELECT auc, pauc, pauc_mcclish FROM results WHERE run_id = $1 AND final = 1 AND scope = 'average' ORDER BY epoch DESC LIMIT 1`,
        [runId],
      ),
    );
    const m = r.rows[0];
    const num = (x: number | null) => (x === null ? Number.NaN : x);
    return m ? { auc: num(m.auc), pauc: num(m.pauc), paucMcclish: num(m.pauc_mcclish) } : null;
  }

  async recordJob(job: SweepJob): Promise<void> {
    await this.retry(() => this.pool.query(pgParams(SQL.insertJob), jobParams(job)));
  }

  async sweepJobs(sweep: string): Promise<SweepJob[]> {
    return (await this.retry(() => this.pool.query<JobRow>(pgParams(SQL.jobs), [sweep]))).rows.map(toSweepJob);
  }

  async setJobState(sweep: string, jobId: string, state: JobState): Promise<void> {
    await this.retry(() => this.pool.query(pgParams(SQL.setJobState), [state, sweep, jobId]));
  }

  async recordedSweep(name: string): Promise<RecordedSweep | null> {
    return toRecordedSweep((await this.retry(() => this.pool.query<{ name: string; file: string; spec: string }>(pgParams(SQL.sweep), [name]))).rows[0]);
  }

  async sweepProgress(sweep: string): Promise<TrialProgress[]> {
    return (await this.retry(() => this.pool.query<ProgressRow>(pgParams(SQL.progress), [sweep]))).rows.map(toTrialProgress);
  }

  async rungTable(sweep: string): Promise<StoredRungs> {
    return this.retry(async () => {
      const c = await this.pool.connect();
      try {
        return await rungsIn(c, sweep);
      } finally {
        c.release();
      }
    });
  }

  async recordRungs(sweep: string, rows: readonly RungRow[], decide: Decide): Promise<StoredDecision[]> {
    return this.tx(async (c) => {
      // Every worker deciding for this sweep queues here: one table, one decider at a time.
      await c.query(pgParams(RUNG_SQL.lockSweep), [sweep]);
      const at = iso();
      for (const r of rows) await c.query(pgParams(RUNG_SQL.insertResult), resultParams(sweep, r, at));
      const table = await rungsIn(c, sweep);
      const ds = decide(table);
      const after = table.decisions.at(-1)?.seq ?? 0;
      for (const p of decisionParams(sweep, after, ds, at)) await c.query(pgParams(RUNG_SQL.insertDecision), p);
      return ds.map((d, i) => ({ ...d, seq: after + i + 1, decidedAt: at }));
    });
  }

  writer(runId: string): RunWriter {
    let lastBeat = 0;
    const beat = async (c: pg.ClientBase) => {
      lastBeat = Date.now();
      await c.query('UPDATE runs SET heartbeat_at = $1, pid = $2, host = $3 WHERE id = $4', [lastBeat, process.pid, hostname(), runId]);
    };
    return {
      runId,
      record: async (e: TrainEvent) => {
        if (e.kind === 'done') return;
        if (e.kind === 'step') {
          if (Date.now() - lastBeat >= 1000) await this.tx(beat);
          return;
        }
        await this.tx(async (c) => {
          await writeEvent(c, runId, e);
          await beat(c);
        });
      },
      heartbeat: () => this.tx(beat),
      finish: (status: EndStatus, error: string | null = null) =>
        this.tx(async (c) => {
          await c.query('UPDATE runs SET status = $1, error = $2, finished_at = $3, heartbeat_at = $4 WHERE id = $5', [status, error, iso(), Date.now(), runId]);
        }),
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

const mine = (run: RunRecord): boolean => run.host === hostname() && run.pid === process.pid;

/**
 * The shared reads are written in SQLite's dialect; PostgreSQL numbers its placeholders and calls
 * the byte-wise collation "C" (so text sorts as in SQLite whatever the database's locale).
 */
export function toPgSql(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`).replace(/COLLATE BINARY/g, 'COLLATE "C"');
}

/** One event's rows, as upserts (a replay or a retry replaces, never duplicates). */
async function rungsIn(c: pg.ClientBase, sweep: string): Promise<StoredRungs> {
  const results = (await c.query<ResultDbRow>(pgParams(RUNG_SQL.results), [sweep])).rows.map(toRungRow);
  const decisions = (await c.query<DecisionDbRow>(pgParams(RUNG_SQL.decisions), [sweep])).rows.map(toDecision);
  return { results, decisions };
}

async function writeEvent(c: pg.ClientBase, runId: string, e: Exclude<TrainEvent, { kind: 'done' | 'step' }>): Promise<void> {
  switch (e.kind) {
    case 'start':
      await c.query('UPDATE runs SET backend = $1, threads = $2, info = $3, started_at = COALESCE(started_at, $4) WHERE id = $5', [e.backend, e.threads, JSON.stringify(e), iso(), runId]);
      return;
    case 'epoch':
      await c.query(
        `INSERT INTO epochs (run_id, epoch, loss, terms, lr, clips_per_sec, seconds, val_loss) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (run_id, epoch) DO UPDATE SET loss = excluded.loss, terms = excluded.terms, lr = excluded.lr,
           clips_per_sec = excluded.clips_per_sec, seconds = excluded.seconds, val_loss = excluded.val_loss`,
        [runId, e.epoch, real(e.loss), JSON.stringify(e.terms), real(e.lr), real(e.clipsPerSec), real(e.seconds), real(e.valLoss)],
      );
      return;
    case 'checkpoint':
      if (e.best) await c.query('UPDATE checkpoints SET best = 0 WHERE run_id = $1', [runId]);
      await c.query(
        `INSERT INTO checkpoints (run_id, epoch, path, best, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run_id, epoch) DO UPDATE SET path = excluded.path, best = excluded.best, created_at = excluded.created_at`,
        [runId, e.epoch, e.path, e.best ? 1 : 0, iso()],
      );
      return;
    case 'eval':
      await writeEval(c, runId, e);
      return;
  }
}

async function writeEval(c: pg.ClientBase, runId: string, e: EvalEvent): Promise<void> {
  const final = e.final ? 1 : 0;
  await c.query('DELETE FROM results WHERE run_id = $1 AND final = $2 AND epoch = $3', [runId, final, e.epoch]);
  await c.query('DELETE FROM scores WHERE run_id = $1 AND final = $2 AND epoch = $3', [runId, final, e.epoch]);
  const rows: unknown[][] = [];
  for (const m of Object.values(e.ids)) rows.push(['id', m.type, m.id, m]);
  for (const [type, m] of Object.entries(e.types)) rows.push(['type', type, '', m]);
  rows.push(['average', '', '', e.average]);
  for (const [scope, type, id, m] of rows as Array<[string, string, string, MetricTriple]>) {
    await c.query(
      `INSERT INTO results (run_id, epoch, final, scope, type, machine_id, auc, pauc, pauc_mcclish) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [runId, e.epoch, final, scope, type, id, real(m.auc), real(m.pauc), real(m.paucMcclish)],
    );
  }
  // Scores in chunks of one multi-row INSERT each (a DCASE test set is thousands of clips).
  for (let i = 0; i < e.scores.length; i += 500) {
    const chunk = e.scores.slice(i, i + 500);
    const values: unknown[] = [];
    const tuples = chunk.map((s, k) => {
      values.push(runId, e.epoch, final, s.path, s.type, s.id, s.label, real(s.score));
      const b = k * 8;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8})`;
    });
    await c.query(
      `INSERT INTO scores (run_id, epoch, final, path, type, machine_id, label, score) VALUES ${tuples.join(', ')}
       ON CONFLICT (run_id, final, epoch, path) DO UPDATE SET score = excluded.score, label = excluded.label`,
      values,
    );
  }
}
