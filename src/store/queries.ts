import type Database from 'better-sqlite3';
import { upgradeStoredConfig } from '../config/upgrade.js';
import type { MetricTriple } from '../train/events.js';
import { UserError } from '../util/errors.js';
import type { CheckpointRecord, EpochRecord, ResultSet, RunRecord, RunStatus, ScoreRecord } from './types.js';

/** Read side of the store, shared by `exp runs / show / compare / export` and the sweep engine. */

export interface RunRow {
  id: string;
  name: string;
  sweep: string | null;
  trial: string | null;
  trial_index: number | null;
  profile: string | null;
  paper: string | null;
  status: RunStatus;
  config: string;
  config_hash: string;
  seed: number;
  backend: string | null;
  threads: number | null;
  info: string | null;
  git_commit: string | null;
  git_dirty: number | null;
  packages: string | null;
  host: string;
  pid: number | null;
  heartbeat_at: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  run_dir: string | null;
}

const num = (x: number | null): number => (x === null ? Number.NaN : x);

export function toRunRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    name: r.name,
    sweep: r.sweep,
    trial: r.trial,
    trialIndex: r.trial_index,
    profile: r.profile,
    paper: r.paper === null ? null : (JSON.parse(r.paper) as RunRecord['paper']),
    status: r.status,
    config: upgradeStoredConfig(JSON.parse(r.config)),
    configHash: r.config_hash,
    seed: r.seed,
    backend: r.backend,
    threads: r.threads,
    info: r.info === null ? null : (JSON.parse(r.info) as Record<string, unknown>),
    gitCommit: r.git_commit,
    gitDirty: r.git_dirty === null ? null : r.git_dirty === 1,
    packages: r.packages === null ? {} : (JSON.parse(r.packages) as Record<string, string>),
    host: r.host,
    pid: r.pid,
    heartbeatAt: r.heartbeat_at,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    runDir: r.run_dir,
  };
}

export interface RunFilter {
  sweep?: string;
  status?: RunStatus;
  name?: string;
}

export function listRuns(db: Database.Database, filter: RunFilter = {}): RunRecord[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.sweep !== undefined) (where.push('sweep = ?'), args.push(filter.sweep));
  if (filter.status !== undefined) (where.push('status = ?'), args.push(filter.status));
  if (filter.name !== undefined) (where.push('name = ?'), args.push(filter.name));
  const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, trial_index, id`;
  return (db.prepare(sql).all(...args) as RunRow[]).map(toRunRecord);
}

export function getRun(db: Database.Database, id: string): RunRecord | null {
  const row = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  return row ? toRunRecord(row) : null;
}

export function sweepExists(db: Database.Database, name: string): boolean {
  return db.prepare('SELECT 1 FROM sweeps WHERE name = ? UNION SELECT 1 FROM runs WHERE sweep = ? LIMIT 1').get(name, name) !== undefined;
}

export function listSweeps(db: Database.Database): Array<{ name: string; file: string; spec: unknown; createdAt: string }> {
  return (db.prepare('SELECT name, file, spec, created_at FROM sweeps ORDER BY created_at').all() as Array<{ name: string; file: string; spec: string; created_at: string }>).map(
    (r) => ({ name: r.name, file: r.file, spec: JSON.parse(r.spec) as unknown, createdAt: r.created_at }),
  );
}

/**
 * A run reference as users type it: a run id, a unique id prefix, a run name (the latest run of
 * that name), or a sweep trial name (`full`, or `ablation/full`). Ambiguity is an error listing
 * the candidates.
 */
export function resolveRun(db: Database.Database, ref: string): RunRecord {
  if (ref.trim() === '') throw new UserError('run "": empty run reference; give a run id (or unique prefix), run name or trial name (list them with: exp runs)');
  const exact = getRun(db, ref);
  if (exact) return exact;
  const byName = db.prepare('SELECT * FROM runs WHERE name = ? ORDER BY created_at DESC, id DESC LIMIT 1').get(ref) as RunRow | undefined;
  if (byName) return toRunRecord(byName);
  const byPrefix = db.prepare(`SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at`).all(`${ref.replace(/[\\%_]/g, '\\$&')}%`) as RunRow[];
  if (byPrefix.length === 1) return toRunRecord(byPrefix[0]!);
  if (byPrefix.length > 1) throw ambiguous(ref, byPrefix);
  // A trial name: the latest run of that trial per sweep; more than one sweep -> ambiguous.
  const byTrial = db
    .prepare(
      `SELECT * FROM runs r WHERE trial = ? AND created_at = (SELECT MAX(created_at) FROM runs s WHERE s.trial = r.trial AND s.sweep IS r.sweep) ORDER BY created_at`,
    )
    .all(ref) as RunRow[];
  if (byTrial.length === 1) return toRunRecord(byTrial[0]!);
  if (byTrial.length > 1) throw ambiguous(ref, byTrial);
  throw new UserError(`run ${JSON.stringify(ref)}: no run with that id, name or trial name in the store (list them with: exp runs)`);
}

/** One line however many runs match: the first few candidates, then a count of the rest. */
function ambiguous(ref: string, rows: RunRow[]): UserError {
  const shown = rows.slice(0, 4).map((r) => `${r.id} (${r.sweep ? `${r.sweep}/${r.trial}` : r.name})`);
  const more = rows.length > shown.length ? ` and ${rows.length - shown.length} more` : '';
  return new UserError(`run ${JSON.stringify(ref)} is ambiguous: it matches ${rows.length} runs, ${shown.join(', ')}${more}; give a longer id prefix or sweep/trial`);
}

export function getEpochs(db: Database.Database, runId: string): EpochRecord[] {
  const rows = db.prepare('SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch').all(runId) as Array<{
    epoch: number; loss: number | null; terms: string; lr: number | null; clips_per_sec: number | null; seconds: number | null; val_loss: number | null;
  }>;
  return rows.map((r) => ({
    epoch: r.epoch,
    loss: r.loss,
    terms: JSON.parse(r.terms) as Record<string, number>,
    lr: r.lr,
    clipsPerSec: r.clips_per_sec,
    seconds: r.seconds,
    valLoss: r.val_loss,
  }));
}

/** Every evaluation of a run, the evalEvery ones by epoch and then the final one. */
export function getResults(db: Database.Database, runId: string): ResultSet[] {
  const rows = db.prepare('SELECT * FROM results WHERE run_id = ? ORDER BY final, epoch, scope, type, machine_id').all(runId) as Array<{
    epoch: number; final: number; scope: 'id' | 'type' | 'average'; type: string; machine_id: string; auc: number | null; pauc: number | null; pauc_mcclish: number | null;
  }>;
  const sets = new Map<string, ResultSet>();
  for (const r of rows) {
    const key = `${r.final}:${r.epoch}`;
    let set = sets.get(key);
    if (!set) sets.set(key, (set = { epoch: r.epoch, final: r.final === 1, ids: [], types: {}, average: null }));
    const m: MetricTriple = { auc: num(r.auc), pauc: num(r.pauc), paucMcclish: num(r.pauc_mcclish) };
    if (r.scope === 'id') set.ids.push({ ...m, type: r.type, id: r.machine_id });
    else if (r.scope === 'type') set.types[r.type] = m;
    else set.average = m;
  }
  return [...sets.values()];
}

export function getFinalResult(db: Database.Database, runId: string): ResultSet | null {
  return getResults(db, runId).find((s) => s.final) ?? null;
}

export function getScores(db: Database.Database, runId: string, opts: { final?: boolean; epoch?: number } = {}): ScoreRecord[] {
  const where = ['run_id = ?'];
  const args: unknown[] = [runId];
  if (opts.final !== undefined) (where.push('final = ?'), args.push(opts.final ? 1 : 0));
  if (opts.epoch !== undefined) (where.push('epoch = ?'), args.push(opts.epoch));
  const rows = db.prepare(`SELECT * FROM scores WHERE ${where.join(' AND ')} ORDER BY final, epoch, path`).all(...args) as Array<{
    epoch: number; final: number; path: string; type: string; machine_id: string; label: number; score: number | null;
  }>;
  return rows.map((r) => ({ epoch: r.epoch, final: r.final === 1, path: r.path, type: r.type, id: r.machine_id, label: r.label === 1 ? 1 : 0, score: num(r.score) }));
}

export function getCheckpoints(db: Database.Database, runId: string): CheckpointRecord[] {
  const rows = db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch').all(runId) as Array<{ epoch: number; path: string; best: number; created_at: string }>;
  return rows.map((r) => ({ epoch: r.epoch, path: r.path, best: r.best === 1, createdAt: r.created_at }));
}

/** The checkpoint a resume continues from: the latest one recorded. */
export function latestCheckpoint(db: Database.Database, runId: string): CheckpointRecord | null {
  const cps = getCheckpoints(db, runId);
  return cps.length > 0 ? cps[cps.length - 1]! : null;
}
