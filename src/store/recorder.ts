import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExperimentConfig } from '../config/schema.js';
import { experimentHash } from '../config/stored.js';
import type { TrainEvent, EvalEvent, MetricTriple } from '../train/events.js';
import { newRunId } from './ids.js';
import { provenance } from './provenance.js';
import { getRun, latestCheckpoint } from './queries.js';
import type { RunRecord, RunStatus } from './types.js';

const iso = (ms = Date.now()): string => new Date(ms).toISOString();
/** NaN/Infinity cannot be stored as REAL meaningfully; keep them as NULL (read back as NaN). */
const real = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);

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
}

/** The columns of a new run row (shared by both store engines). */
export function newRunRow(run: NewRun): Record<string, string | number | null> {
  const id = run.id ?? newRunId();
  const status = run.status ?? 'running';
  const p = provenance();
  const now = Date.now();
  const running = status === 'running';
  return {
    id, name: run.name, sweep: run.sweep ?? null, trial: run.trial ?? null, trial_index: run.trialIndex ?? null, profile: run.profile ?? null,
    paper: run.paper ? JSON.stringify(run.paper) : null, status, config: JSON.stringify(run.config), config_hash: experimentHash(run.config), seed: run.config.seed,
    git_commit: p.gitCommit, git_dirty: p.gitDirty === null ? null : Number(p.gitDirty), packages: JSON.stringify(p.packages), host: p.host,
    pid: running ? process.pid : null, heartbeat_at: running ? now : null, created_at: iso(now), started_at: running ? iso(now) : null,
    run_dir: run.runDir ?? runDirFor(run.dbFile ?? 'runs/exp.db', id, run.artifacts),
  };
}

/** Inserts a run row (running and leased to this process unless `status` says otherwise). */
export function createRun(db: Database.Database, run: NewRun): RunRecord {
  const row = newRunRow(run);
  const cols = Object.keys(row);
  db.prepare(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...Object.values(row));
  return getRun(db, row.id as string)!;
}

/**
 * Takes an existing run back for this process (`exp run --resume`, a re-queued sweep trial): it
 * becomes 'running', leased to this pid and host. It resumes from its latest checkpoint when that
 * is still on disk and `fresh` is false; otherwise its earlier outputs are dropped and it starts
 * over. Returns the checkpoint to resume from, or null. Call it inside the transaction that
 * decided to take the run.
 */
export function reopenRun(db: Database.Database, runId: string, opts: { fresh: boolean }): string | null {
  let resumeFrom: string | null = null;
  if (!opts.fresh) {
    const cp = latestCheckpoint(db, runId);
    if (cp && existsSync(cp.path)) resumeFrom = cp.path;
  }
  if (resumeFrom === null) resetRunOutputs(db, runId);
  const now = Date.now();
  db.prepare(
    `UPDATE runs SET status = 'running', pid = ?, host = ?, heartbeat_at = ?, started_at = ?, finished_at = NULL, error = NULL WHERE id = ?`,
  ).run(process.pid, hostname(), now, iso(now), runId);
  return resumeFrom;
}

/** Drops everything a run produced (a failed trial re-run from scratch, or --force). */
export function resetRunOutputs(db: Database.Database, runId: string): void {
  for (const table of ['epochs', 'results', 'scores', 'checkpoints']) db.prepare(`DELETE FROM ${table} WHERE run_id = ?`).run(runId);
}

/**
 * Writes one run's TrainEvents to the store. Each event is one transaction, so an epoch, a
 * checkpoint or an evaluation is either fully there or not at all; replayed epochs after a resume
 * replace their earlier rows. Every write renews the run's lease (heartbeat).
 */
export class RunRecorder {
  private lastBeat = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database.Database,
    readonly runId: string,
    private readonly pid: number = process.pid,
  ) {}

  /** Renews the lease at most once a second from step events; explicit calls always write. */
  heartbeat(force = true): void {
    const now = Date.now();
    if (!force && now - this.lastBeat < 1000) return;
    this.lastBeat = now;
    this.db.prepare(`UPDATE runs SET heartbeat_at = ?, pid = ?, host = ? WHERE id = ?`).run(now, this.pid, hostname(), this.runId);
  }

  /** Keeps the lease alive while the trainer is busy between events (long evals). Unref'd. */
  startHeartbeat(intervalMs = 10_000): void {
    this.stopHeartbeat();
    this.timer = setInterval(() => this.heartbeat(), intervalMs);
    this.timer.unref();
  }

  stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  handle(e: TrainEvent): void {
    switch (e.kind) {
      case 'start':
        this.tx(() => {
          this.db
            .prepare(`UPDATE runs SET backend = ?, threads = ?, info = ?, started_at = COALESCE(started_at, ?) WHERE id = ?`)
            .run(e.backend, e.threads, JSON.stringify(e), iso(), this.runId);
        });
        break;
      case 'step':
        this.heartbeat(false);
        break;
      case 'epoch':
        this.tx(() => {
          this.db
            .prepare(
              `INSERT INTO epochs (run_id, epoch, loss, terms, lr, clips_per_sec, seconds, val_loss) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (run_id, epoch) DO UPDATE SET loss = excluded.loss, terms = excluded.terms, lr = excluded.lr,
                 clips_per_sec = excluded.clips_per_sec, seconds = excluded.seconds, val_loss = excluded.val_loss`,
            )
            .run(this.runId, e.epoch, real(e.loss), JSON.stringify(e.terms), real(e.lr), real(e.clipsPerSec), real(e.seconds), real(e.valLoss));
        });
        break;
      case 'checkpoint':
        this.tx(() => {
          if (e.best) this.db.prepare('UPDATE checkpoints SET best = 0 WHERE run_id = ?').run(this.runId);
          this.db
            .prepare(
              `INSERT INTO checkpoints (run_id, epoch, path, best, created_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (run_id, epoch) DO UPDATE SET path = excluded.path, best = excluded.best, created_at = excluded.created_at`,
            )
            .run(this.runId, e.epoch, e.path, e.best ? 1 : 0, iso());
        });
        break;
      case 'eval':
        this.tx(() => this.writeEval(e));
        break;
      case 'done':
        this.finish('done');
        break;
    }
  }

  private writeEval(e: EvalEvent): void {
    const final = e.final ? 1 : 0;
    this.db.prepare('DELETE FROM results WHERE run_id = ? AND final = ? AND epoch = ?').run(this.runId, final, e.epoch);
    this.db.prepare('DELETE FROM scores WHERE run_id = ? AND final = ? AND epoch = ?').run(this.runId, final, e.epoch);
    const result = this.db.prepare(
      `INSERT INTO results (run_id, epoch, final, scope, type, machine_id, auc, pauc, pauc_mcclish) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const put = (scope: string, type: string, id: string, m: MetricTriple) =>
      result.run(this.runId, e.epoch, final, scope, type, id, real(m.auc), real(m.pauc), real(m.paucMcclish));
    for (const m of Object.values(e.ids)) put('id', m.type, m.id, m);
    for (const [type, m] of Object.entries(e.types)) put('type', type, '', m);
    put('average', '', '', e.average);
    const score = this.db.prepare(
      `INSERT INTO scores (run_id, epoch, final, path, type, machine_id, label, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET score = excluded.score, label = excluded.label`,
    );
    for (const s of e.scores) score.run(this.runId, e.epoch, final, s.path, s.type, s.id, s.label, real(s.score));
  }

  /** Marks the run finished: done, failed (with the reason) or interrupted (resumable). */
  finish(status: 'done' | 'failed' | 'interrupted', error: string | null = null): void {
    this.stopHeartbeat();
    this.db
      .prepare(`UPDATE runs SET status = ?, error = ?, finished_at = ?, heartbeat_at = ? WHERE id = ?`)
      .run(status, error, iso(), Date.now(), this.runId);
  }

  fail(error: string): void {
    this.finish('failed', error);
  }

  interrupt(reason = 'interrupted (Ctrl-C)'): void {
    this.finish('interrupted', reason);
  }

  /** One transaction per event, renewing the lease inside it. */
  private tx(fn: () => void): void {
    this.db.transaction(() => {
      fn();
      this.lastBeat = Date.now();
      this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(this.lastBeat, this.runId);
    }).immediate();
  }
}
