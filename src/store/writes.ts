import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExperimentConfig } from '../config/schema.js';
import { experimentHash } from '../config/hash.js';
import type { EvalEvent, MetricTriple, TrainEvent } from '../events/index.js';
import { UserError } from '../util/errors.js';
import { newRunId } from './ids.js';
import { provenance } from './provenance.js';
import { getCheckpointsRead, getRunRead, toRunRecord, type Query, type Read, type RunRow } from './reads.js';
import { DEFAULT_STALE_SECONDS, leaseAlive } from './stale.js';
import { SQL, jobParams, type JobState, type SweepJob } from './sweep-jobs.js';
import type { RunRecord, RunStatus } from './types.js';

/**
 * The write side of the store, written once for both engines, as reads.ts is for the reads. Each
 * write is a generator that yields its statements (SQLite's dialect, `?` placeholders) and is sent
 * each statement's rows (RETURNING rows; [] for a statement that returns none). An engine runs a
 * whole write as one transaction: SQLite as an IMMEDIATE transaction (which serialises writers, so
 * a row lock is not needed), PostgreSQL between BEGIN and COMMIT, retried whole after a lost
 * connection (pg/pg-store.ts translates the placeholders and adds the row locks a Query asks for).
 * Every statement is an idempotent upsert or a keyed update, so a retried write never records
 * anything twice.
 */

export type Write<T> = Read<T>;

/**
 * How an engine runs a write: `retried` is true when the attempt repeats one whose outcome is
 * unknown (PostgreSQL: the connection dropped, perhaps after the COMMIT reached the server).
 */
export type WriteRunner = <T>(make: (retried: boolean) => Write<T>) => Promise<T>;

const iso = (ms = Date.now()): string => new Date(ms).toISOString();
/** NaN/Infinity cannot be stored as REAL meaningfully; keep them as NULL (read back as NaN). */
const real = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : x;

function* exec<R = unknown>(sql: string, args: unknown[], lock?: Query['lock']): Generator<Query, R[], unknown[]> {
  return (yield lock ? { sql, args, lock } : { sql, args }) as R[];
}

/**
 * Checkpoints and run files: `<artifacts>/<run id>/` when an artifacts directory is given (a
 * directory every node can read, for cluster workers), else beside a SQLite store (`<db dir>/<run
 * id>/`, runs/<id>/ by default).
 */
export function runDirFor(dbFile: string, runId: string, artifacts?: string | null): string {
  if (artifacts) return join(artifacts, runId);
  return join(dbFile === ':memory:' || /^postgres(ql)?:/.test(dbFile) ? 'runs' : dirname(dbFile), runId);
}

export interface NewRun {
  name: string;
  config: ExperimentConfig;
  status?: RunStatus;
  sweep?: string | null;
  trial?: string | null;
  trialIndex?: number | null;
  profile?: string | null;
  paper?: { auc: number; pauc: number; types?: Record<string, { auc: number; pauc: number }> } | null;
  /** Defaults to runDirFor(dbFile, id). */
  runDir?: string;
  dbFile?: string;
  /** Directory for run directories (see runDirFor). */
  artifacts?: string | null;
  id?: string;
  /** The run's identity when the caller has it already (a sweep trial's, from its spec); else computed here. */
  configHash?: string;
}

export type RunRowValues = Record<string, string | number | null>;

/** The columns of a new run row. Built before the write, so a retried insert finds its own row. */
export function newRunRow(run: NewRun): RunRowValues {
  const id = run.id ?? newRunId();
  const status = run.status ?? 'running';
  const p = provenance();
  const now = Date.now();
  const running = status === 'running';
  return {
    id,
    name: run.name,
    sweep: run.sweep ?? null,
    trial: run.trial ?? null,
    trial_index: run.trialIndex ?? null,
    profile: run.profile ?? null,
    paper: run.paper ? JSON.stringify(run.paper) : null,
    status,
    config: JSON.stringify(run.config),
    config_hash: run.configHash ?? experimentHash(run.config),
    seed: run.config.seed,
    git_commit: p.gitCommit,
    git_dirty: p.gitDirty === null ? null : Number(p.gitDirty),
    packages: JSON.stringify(p.packages),
    host: p.host,
    pid: running ? process.pid : null,
    heartbeat_at: running ? now : null,
    created_at: iso(now),
    started_at: running ? iso(now) : null,
    run_dir: run.runDir ?? runDirFor(run.dbFile ?? 'runs/exp.db', id, run.artifacts),
  };
}

/** INSERT of a run row that does nothing when the id, or the trial's (sweep, config hash), is taken; returns the id when inserted. */
function* insertRunRow(row: RunRowValues): Generator<Query, string | null, unknown[]> {
  const cols = Object.keys(row);
  const ins = yield* exec<{ id: string }>(
    `INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING RETURNING id`,
    Object.values(row),
  );
  return ins[0]?.id ?? null;
}

function* mustGetRun(id: string): Generator<Query, RunRecord, unknown[]> {
  const run = yield* getRunRead(id);
  if (!run) throw new Error(`run ${id} vanished inside its own transaction`);
  return run;
}

/** Inserts a run (running and leased to this process unless its status says otherwise). */
export function* createRunWrite(row: RunRowValues): Write<RunRecord> {
  yield* insertRunRow(row);
  return yield* mustGetRun(row.id as string);
}

/** Whether this process holds the run's lease (what a lost COMMIT acknowledgement leaves behind). */
const mine = (run: RunRecord): boolean => run.host === hostname() && run.pid === process.pid;

/**
 * The one resume rule, on both engines: a 'running' run whose lease still holds (its process is
 * alive here, or it sent a heartbeat within the lease) belongs to that process and is refused; one
 * whose lease ran out (the process is gone, or silent past the lease) is taken over. Finished
 * ('done') runs are refused; interrupted and failed ones are taken.
 */
export function resumeRefusal(run: RunRecord, retried: boolean, leaseSeconds = DEFAULT_STALE_SECONDS): string | null {
  if (run.status === 'done') return `run ${run.id} (${run.name}) is already done; nothing to resume`;
  if (run.status !== 'running' || (retried && mine(run))) return null;
  if (!leaseAlive({ host: run.host, pid: run.pid, heartbeat_at: run.heartbeatAt }, leaseSeconds)) return null;
  return `run ${run.id} (${run.name}) is running in process ${run.pid} on ${run.host}; it cannot be resumed twice`;
}

export interface RunLeaseRecord {
  run: RunRecord;
  /** The checkpoint directory to continue from, or null to start from scratch. */
  resumeFrom: string | null;
}

/** `exp run --resume`: takes an interrupted, failed or stale run back for this process. */
export function* resumeRunWrite(runId: string, location: string, retried: boolean): Write<RunLeaseRecord> {
  const [row] = yield* exec<RunRow>('SELECT * FROM runs WHERE id = ?', [runId], 'wait');
  if (!row) throw new UserError(`run ${runId} is not in ${location}`);
  const refusal = resumeRefusal(toRunRecord(row), retried);
  if (refusal) throw new UserError(refusal);
  const resumeFrom = yield* reopenRun(runId, false);
  return { run: yield* mustGetRun(runId), resumeFrom };
}

/**
 * Takes an existing run back for this process (`exp run --resume`, a re-queued sweep trial): it
 * becomes 'running', leased to this pid and host. It resumes from its latest checkpoint when that
 * is still on disk and `fresh` is false; otherwise its earlier outputs are dropped and it starts
 * over. Returns the checkpoint to resume from, or null.
 */
function* reopenRun(runId: string, fresh: boolean): Generator<Query, string | null, unknown[]> {
  let resumeFrom: string | null = null;
  if (!fresh) {
    const cps = yield* getCheckpointsRead(runId);
    const cp = cps[cps.length - 1];
    if (cp && existsSync(cp.path)) resumeFrom = cp.path;
  }
  if (resumeFrom === null)
    for (const t of ['epochs', 'results', 'scores', 'checkpoints'])
      yield* exec(`DELETE FROM ${t} WHERE run_id = ?`, [runId]);
  const now = Date.now();
  yield* exec(
    `UPDATE runs SET status = 'running', pid = ?, host = ?, heartbeat_at = ?, started_at = ?, finished_at = NULL, error = NULL WHERE id = ?`,
    [process.pid, hostname(), now, iso(now), runId],
  );
  return resumeFrom;
}

/** What the store needs to know of a sweep trial (src/sweep/spec.ts's Trial fits it). */
export interface TrialRef {
  name: string;
  index: number;
  hash: string;
  config: ExperimentConfig;
  paper: { auc: number; pauc: number } | null;
}

/**
 * Re-run policy of `exp sweep` (identity = canonical config hash within the sweep):
 * - done trials are never re-run, unless `force`;
 * - interrupted trials (and 'running' ones whose lease ran out) always resume from their last checkpoint;
 * - failed trials are re-run from scratch only with `rerunFailed` (or `force`): a failure is usually a
 *   bug or bad data, and repeating it silently would hide it;
 * - a trial running under another live process is left alone.
 */
export interface ClaimPolicy {
  rerunFailed: boolean;
  force: boolean;
  staleSeconds: number;
  /** With force: runs finished before this instant (epoch ms) are re-run, later ones are not. */
  forceBefore: number;
}

export type FinishedReason = 'done' | 'failed' | 'busy' | 'pruned';

export type ClaimDecision = { kind: 'skip'; reason: FinishedReason } | { kind: 'run'; fresh: boolean };

/** What the re-run policy says about a stored trial row. */
export function decideClaim(row: RunRecord, policy: ClaimPolicy): ClaimDecision {
  const forced = policy.force && (row.finishedAt === null || Date.parse(row.finishedAt) < policy.forceBefore);
  switch (row.status) {
    case 'done':
      return forced ? { kind: 'run', fresh: true } : { kind: 'skip', reason: 'done' };
    case 'failed':
      return policy.rerunFailed || forced ? { kind: 'run', fresh: true } : { kind: 'skip', reason: 'failed' };
    case 'pruned':
      // Stopped at a rung by the sweep's scheduler: over, like a done trial.
      return forced ? { kind: 'run', fresh: true } : { kind: 'skip', reason: 'pruned' };
    case 'running':
      if (leaseAlive({ host: row.host, pid: row.pid, heartbeat_at: row.heartbeatAt }, policy.staleSeconds))
        return { kind: 'skip', reason: 'busy' };
      return { kind: 'run', fresh: false };
    default:
      return { kind: 'run', fresh: false };
  }
}

export interface ClaimContext {
  sweep: string;
  profile: string | null;
  location: string;
  artifacts: string | null;
}

export type ClaimResult = ({ kind: 'run' } & RunLeaseRecord) | { kind: 'skip'; run: RunRecord; reason: FinishedReason };

/**
 * Takes a trial for this process, or says why not: the row becomes 'running', leased to this pid,
 * only if no other live process holds it, so two orchestrators on one sweep never train the same
 * trial twice. The trial's row is locked (PostgreSQL: FOR UPDATE SKIP LOCKED, so of many workers
 * asking at once one gets it and the others see it busy without waiting); a new trial's row is
 * inserted with ON CONFLICT DO NOTHING on the unique (sweep, config_hash) index.
 */
export function* claimTrialWrite(
  ctx: ClaimContext,
  trial: TrialRef,
  policy: ClaimPolicy,
  retried: boolean,
): Write<ClaimResult> {
  const fields = {
    name: `${ctx.sweep}/${trial.name}`,
    trial: trial.name,
    trialIndex: trial.index,
    profile: ctx.profile,
    paper: trial.paper,
  };
  const [locked] = yield* exec<RunRow>(
    'SELECT * FROM runs WHERE sweep = ? AND config_hash = ?',
    [ctx.sweep, trial.hash],
    'skip',
  );
  if (!locked) {
    const row = newRunRow({
      ...fields,
      config: trial.config,
      configHash: trial.hash,
      sweep: ctx.sweep,
      dbFile: ctx.location,
      artifacts: ctx.artifacts,
    });
    const id = yield* insertRunRow(row);
    if (id !== null) return { kind: 'run', run: yield* mustGetRun(id), resumeFrom: null };
    const [other] = yield* exec<RunRow>('SELECT * FROM runs WHERE sweep = ? AND config_hash = ?', [
      ctx.sweep,
      trial.hash,
    ]);
    return { kind: 'skip', run: toRunRecord(other!), reason: 'busy' };
  }
  const run = toRunRecord(locked);
  // A claim that committed before its connection dropped comes back here as our own lease.
  const d: ClaimDecision =
    retried && run.status === 'running' && mine(run) ? { kind: 'run', fresh: false } : decideClaim(run, policy);
  if (d.kind === 'skip') return { kind: 'skip', run, reason: d.reason };
  // Starting over (failed, forced, or nothing to resume from) drops the old outputs.
  const resumeFrom = yield* reopenRun(run.id, d.fresh);
  yield* exec('UPDATE runs SET name = ?, trial = ?, trial_index = ?, profile = ?, paper = ? WHERE id = ?', [
    fields.name,
    fields.trial,
    fields.trialIndex,
    fields.profile,
    fields.paper ? JSON.stringify(fields.paper) : null,
    run.id,
  ]);
  return { kind: 'run', run: yield* mustGetRun(run.id), resumeFrom };
}

/** What a sweep records about itself: the spec as run, and each trial's identity. */
export interface SweepRecord {
  name: string;
  file: string;
  profile: string | null;
  spec: unknown;
  trials: Array<TrialRef & { set: unknown }>;
}

/** Records the sweep (spec as run) and a queued row for every trial not yet in the store. */
export function* registerSweepWrite(sweep: SweepRecord, location: string, artifacts: string | null): Write<void> {
  const now = iso();
  const spec = {
    ...(sweep.spec as object),
    profile: sweep.profile,
    trials: sweep.trials.map((t) => ({ name: t.name, hash: t.hash, paper: t.paper, set: t.set })),
  };
  yield* exec(
    `INSERT INTO sweeps (name, file, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET file = excluded.file, spec = excluded.spec, updated_at = excluded.updated_at`,
    [sweep.name, sweep.file, JSON.stringify(spec), now, now],
  );
  for (const t of sweep.trials) {
    // The unique (sweep, config_hash) index makes this a no-op for a trial already stored.
    yield* insertRunRow(
      newRunRow({
        name: `${sweep.name}/${t.name}`,
        config: t.config,
        configHash: t.hash,
        sweep: sweep.name,
        trial: t.name,
        trialIndex: t.index,
        profile: sweep.profile,
        paper: t.paper,
        status: 'queued',
        dbFile: location,
        artifacts,
      }),
    );
  }
}

/** Renews the run's lease for this process. */
export function* heartbeatWrite(runId: string): Write<void> {
  yield* exec('UPDATE runs SET heartbeat_at = ?, pid = ?, host = ? WHERE id = ?', [
    Date.now(),
    process.pid,
    hostname(),
    runId,
  ]);
}

/**
 * One event's rows, then the lease renewed, in one transaction: an epoch, a checkpoint or an
 * evaluation is either fully stored or not at all; a replayed epoch (after a resume) or a retried
 * write replaces its earlier rows. 'step' only renews the lease; 'done' is not stored (finishRunWrite
 * ends the run).
 */
export function* recordEventWrite(runId: string, e: TrainEvent): Write<void> {
  switch (e.kind) {
    case 'start':
      yield* exec(
        'UPDATE runs SET backend = ?, threads = ?, info = ?, started_at = COALESCE(started_at, ?) WHERE id = ?',
        [e.backend, e.threads, JSON.stringify(e), iso(), runId],
      );
      break;
    case 'epoch':
      yield* exec(
        `INSERT INTO epochs (run_id, epoch, loss, terms, lr, clips_per_sec, seconds, val_loss, val_acc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, epoch) DO UPDATE SET loss = excluded.loss, terms = excluded.terms, lr = excluded.lr,
           clips_per_sec = excluded.clips_per_sec, seconds = excluded.seconds, val_loss = excluded.val_loss,
           val_acc = excluded.val_acc`,
        [
          runId,
          e.epoch,
          real(e.loss),
          JSON.stringify(e.terms),
          real(e.lr),
          real(e.clipsPerSec),
          real(e.seconds),
          real(e.valLoss),
          real(e.valAcc ?? null),
        ],
      );
      break;
    case 'checkpoint':
      if (e.best) yield* exec('UPDATE checkpoints SET best = 0 WHERE run_id = ?', [runId]);
      yield* exec(
        `INSERT INTO checkpoints (run_id, epoch, path, best, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run_id, epoch) DO UPDATE SET path = excluded.path, best = excluded.best, created_at = excluded.created_at`,
        [runId, e.epoch, e.path, e.best ? 1 : 0, iso()],
      );
      break;
    case 'eval':
      yield* writeEval(runId, e);
      break;
    case 'step':
      break;
    case 'done':
      return;
  }
  yield* heartbeatWrite(runId);
}

/** Rows per multi-row INSERT of scores (a DCASE test set is thousands of clips; 8 values a row). */
const SCORE_CHUNK = 500;

function* writeEval(runId: string, e: EvalEvent): Generator<Query, void, unknown[]> {
  const final = e.final ? 1 : 0;
  yield* exec('DELETE FROM results WHERE run_id = ? AND final = ? AND epoch = ?', [runId, final, e.epoch]);
  yield* exec('DELETE FROM scores WHERE run_id = ? AND final = ? AND epoch = ?', [runId, final, e.epoch]);
  const rows: Array<[string, string, string, MetricTriple]> = [];
  for (const m of Object.values(e.ids)) rows.push(['id', m.type, m.id, m]);
  for (const [type, m] of Object.entries(e.types)) rows.push(['type', type, '', m]);
  rows.push(['average', '', '', e.average]);
  for (const [scope, type, id, m] of rows) {
    yield* exec(
      'INSERT INTO results (run_id, epoch, final, scope, type, machine_id, auc, pauc, pauc_mcclish) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [runId, e.epoch, final, scope, type, id, real(m.auc), real(m.pauc), real(m.paucMcclish)],
    );
  }
  for (let i = 0; i < e.scores.length; i += SCORE_CHUNK) {
    const chunk = e.scores.slice(i, i + SCORE_CHUNK);
    yield* exec(
      `INSERT INTO scores (run_id, epoch, final, path, type, machine_id, label, score) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
       ON CONFLICT (run_id, final, epoch, path) DO UPDATE SET score = excluded.score, label = excluded.label`,
      chunk.flatMap((s) => [runId, e.epoch, final, s.path, s.type, s.id, s.label, real(s.score)]),
    );
  }
}

export type EndStatus = Extract<RunStatus, 'done' | 'failed' | 'interrupted' | 'paused'>;

/** Marks the run finished: done, failed (with the reason), interrupted (resumable) or paused at a rung (resumable once promoted). */
export function* finishRunWrite(runId: string, status: EndStatus, error: string | null = null): Write<void> {
  yield* exec('UPDATE runs SET status = ?, error = ?, finished_at = ?, heartbeat_at = ? WHERE id = ?', [
    status,
    error,
    iso(),
    Date.now(),
    runId,
  ]);
}

/** A batch job a sweep submitted (idempotent: the same job recorded twice is one row). */
export function* recordJobWrite(job: SweepJob): Write<void> {
  yield* exec(SQL.insertJob, jobParams(job));
}

export function* setJobStateWrite(sweep: string, jobId: string, state: JobState): Write<void> {
  yield* exec(SQL.setJobState, [state, sweep, jobId]);
}

/**
 * A 'running' run whose worker is known to be gone (its batch task ended: killed for memory, its
 * node lost) becomes interrupted with the reason, so it is resumable at once and says why. Only
 * if the row is unchanged since it was read (same heartbeat): a worker that took it over or beat
 * meanwhile keeps it. Returns whether the row was changed.
 */
export function* endLostRunWrite(runId: string, heartbeatAt: number | null, error: string): Write<boolean> {
  const rows = yield* exec<{ id: string }>(
    `UPDATE runs SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND status = 'running' AND COALESCE(heartbeat_at, -1) = ? RETURNING id`,
    [error, iso(), runId, heartbeatAt ?? -1],
  );
  return rows.length > 0;
}
