import type Database from 'better-sqlite3';
import type { ExperimentConfig } from '../config/schema.js';
import { createRun, reopenRun } from './recorder.js';
import { getRun } from './queries.js';
import { leaseAlive } from './stale.js';
import type { RunRecord } from './types.js';

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
 * - interrupted trials (and 'running' ones whose process vanished) always resume from their last checkpoint;
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

export type Claim =
  | { kind: 'run'; run: RunRecord; resumeFrom: string | null }
  | { kind: 'skip'; run: RunRecord; reason: 'done' | 'failed' | 'busy' };

export interface SweepContext {
  sweep: string;
  profile: string | null;
  dbFile: string;
  artifacts?: string | null;
}

export function findTrialRun(db: Database.Database, sweep: string, hash: string): RunRecord | null {
  const id = db.prepare('SELECT id FROM runs WHERE sweep = ? AND config_hash = ?').pluck().get(sweep, hash) as string | undefined;
  return id === undefined ? null : getRun(db, id);
}

/** What a claim would do now, without taking it (the plan shown before the queue starts). */
export function peekTrial(db: Database.Database, trial: TrialRef, ctx: SweepContext, policy: ClaimPolicy): 'run' | 'done' | 'failed' | 'busy' {
  const row = findTrialRun(db, ctx.sweep, trial.hash);
  if (!row) return 'run';
  const d = decideClaim(row, policy);
  return d.kind === 'skip' ? d.reason : 'run';
}

/** What the re-run policy says about a stored trial row (shared by both store engines). */
export function decideClaim(row: RunRecord, policy: ClaimPolicy): { kind: 'skip'; reason: 'done' | 'failed' | 'busy' } | { kind: 'run'; fresh: boolean } {
  const forced = policy.force && (row.finishedAt === null || Date.parse(row.finishedAt) < policy.forceBefore);
  switch (row.status) {
    case 'done':
      return forced ? { kind: 'run', fresh: true } : { kind: 'skip', reason: 'done' };
    case 'failed':
      return policy.rerunFailed || forced ? { kind: 'run', fresh: true } : { kind: 'skip', reason: 'failed' };
    case 'running':
      if (leaseAlive({ host: row.host, pid: row.pid, heartbeat_at: row.heartbeatAt }, policy.staleSeconds)) return { kind: 'skip', reason: 'busy' };
      return { kind: 'run', fresh: false };
    default:
      return { kind: 'run', fresh: false };
  }
}

/**
 * Takes a trial for this process in one IMMEDIATE transaction: the row becomes 'running', leased to
 * this pid, only if no other live process holds it. Two orchestrators on the same sweep therefore
 * never train the same trial twice.
 */
export function claimTrial(db: Database.Database, trial: TrialRef, ctx: SweepContext, policy: ClaimPolicy): Claim {
  return db.transaction((): Claim => {
    const row = findTrialRun(db, ctx.sweep, trial.hash);
    const fields = { name: `${ctx.sweep}/${trial.name}`, trial: trial.name, trialIndex: trial.index, profile: ctx.profile, paper: trial.paper };
    if (!row) {
      const run = createRun(db, { ...fields, config: trial.config, sweep: ctx.sweep, status: 'running', dbFile: ctx.dbFile, artifacts: ctx.artifacts ?? null });
      return { kind: 'run', run, resumeFrom: null };
    }
    const d = decideClaim(row, policy);
    if (d.kind === 'skip') return { kind: 'skip', run: row, reason: d.reason };
    // Starting over (failed, forced, or nothing to resume from) drops the old outputs.
    const resumeFrom = reopenRun(db, row.id, { fresh: d.fresh });
    db.prepare('UPDATE runs SET name = ?, trial = ?, trial_index = ?, profile = ?, paper = ? WHERE id = ?').run(
      fields.name, fields.trial, fields.trialIndex, fields.profile, fields.paper ? JSON.stringify(fields.paper) : null, row.id,
    );
    return { kind: 'run', run: getRun(db, row.id)!, resumeFrom };
  }).immediate();
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
export function registerSweep(db: Database.Database, sweep: SweepRecord, dbFile: string, artifacts: string | null = null): void {
  const now = new Date().toISOString();
  const spec = { ...(sweep.spec as object), profile: sweep.profile, trials: sweep.trials.map((t) => ({ name: t.name, hash: t.hash, paper: t.paper, set: t.set })) };
  db.transaction(() => {
    db.prepare(
      `INSERT INTO sweeps (name, file, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET file = excluded.file, spec = excluded.spec, updated_at = excluded.updated_at`,
    ).run(sweep.name, sweep.file, JSON.stringify(spec), now, now);
    for (const t of sweep.trials) {
      if (findTrialRun(db, sweep.name, t.hash)) continue;
      createRun(db, { name: `${sweep.name}/${t.name}`, config: t.config, sweep: sweep.name, trial: t.name, trialIndex: t.index, profile: sweep.profile, paper: t.paper, status: 'queued', dbFile, artifacts });
    }
  }).immediate();
}
