import { upgradeStoredConfig } from '../config/upgrade.js';
import type { MetricTriple } from '../events/index.js';
import { UserError } from '../util/errors.js';
import type { CheckpointRecord, EpochRecord, ResultSet, RunRecord, RunStatus, ScoreRecord } from './types.js';

/**
 * The read side of the store, written once for both engines. Each read is a generator that yields
 * its SQL (SQLite's dialect, `?` placeholders; text ordered with COLLATE BINARY so both engines
 * sort byte-wise) and receives the rows; a synchronous driver runs it on better-sqlite3, an async
 * one on PostgreSQL (pg/pg-store.ts translates the placeholders and the collation). So `exp runs /
 * show / compare / export / report` print the same on both, down to the order of rows.
 */

export interface Query {
  sql: string;
  args: unknown[];
  /**
   * A write's SELECT that must lock the rows it reads until its transaction ends: 'wait' for
   * them, or 'skip' rows another transaction holds. PostgreSQL adds FOR UPDATE [SKIP LOCKED];
   * SQLite needs nothing (a write runs in an IMMEDIATE transaction, which excludes other writers).
   */
  lock?: 'wait' | 'skip';
}

/** A read: yields queries, is sent each query's rows, returns its result. */
export type Read<T> = Generator<Query, T, unknown[]>;

/** Runs a read against a synchronous engine. */
export function runRead<T>(read: Read<T>, exec: (q: Query) => unknown[]): T {
  let step = read.next();
  while (!step.done) step = read.next(exec(step.value));
  return step.value;
}

/** Runs a read against an asynchronous engine. */
export async function runReadAsync<T>(read: Read<T>, exec: (q: Query) => Promise<unknown[]>): Promise<T> {
  let step = read.next();
  while (!step.done) step = read.next(await exec(step.value));
  return step.value;
}

function* rows<R>(sql: string, ...args: unknown[]): Generator<Query, R[], unknown[]> {
  return (yield { sql, args }) as R[];
}

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

export interface SweepInfo {
  name: string;
  file: string;
  spec: unknown;
  createdAt: string;
}

export interface ScoreFilter {
  final?: boolean;
  epoch?: number;
}

export function* listRunsRead(filter: RunFilter = {}): Read<RunRecord[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.sweep !== undefined) where.push('sweep = ?'), args.push(filter.sweep);
  if (filter.status !== undefined) where.push('status = ?'), args.push(filter.status);
  if (filter.name !== undefined) where.push('name = ?'), args.push(filter.name);
  const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at COLLATE BINARY, trial_index, id COLLATE BINARY`;
  return (yield* rows<RunRow>(sql, ...args)).map(toRunRecord);
}

export function* getRunRead(id: string): Read<RunRecord | null> {
  const [row] = yield* rows<RunRow>('SELECT * FROM runs WHERE id = ?', id);
  return row ? toRunRecord(row) : null;
}

export function* sweepExistsRead(name: string): Read<boolean> {
  return (
    (yield* rows('SELECT 1 FROM sweeps WHERE name = ? UNION SELECT 1 FROM runs WHERE sweep = ? LIMIT 1', name, name))
      .length > 0
  );
}

export function* listSweepsRead(): Read<SweepInfo[]> {
  const rs = yield* rows<{ name: string; file: string; spec: string; created_at: string }>(
    'SELECT name, file, spec, created_at FROM sweeps ORDER BY created_at COLLATE BINARY, name COLLATE BINARY',
  );
  return rs.map((r) => ({ name: r.name, file: r.file, spec: JSON.parse(r.spec) as unknown, createdAt: r.created_at }));
}

/**
 * A run reference as users type it: a run id, a unique id prefix, a run name (the latest run of
 * that name), or a sweep trial name (`full`, or `ablation/full`). Ambiguity is an error listing
 * the candidates.
 */
export function* resolveRunRead(ref: string): Read<RunRecord> {
  if (ref.trim() === '')
    throw new UserError(
      'run "": empty run reference; give a run id (or unique prefix), run name or trial name (list them with: exp runs)',
    );
  const exact = yield* getRunRead(ref);
  if (exact) return exact;
  const [byName] = yield* rows<RunRow>(
    'SELECT * FROM runs WHERE name = ? ORDER BY created_at COLLATE BINARY DESC, id COLLATE BINARY DESC LIMIT 1',
    ref,
  );
  if (byName) return toRunRecord(byName);
  const byPrefix = yield* rows<RunRow>(
    `SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at COLLATE BINARY, id COLLATE BINARY`,
    `${ref.replace(/[\\%_]/g, '\\$&')}%`,
  );
  if (byPrefix.length === 1) return toRunRecord(byPrefix[0]!);
  if (byPrefix.length > 1) throw ambiguous(ref, byPrefix);
  // A trial name: the latest run of that trial per sweep; more than one sweep -> ambiguous.
  const byTrial = yield* rows<RunRow>(
    `SELECT * FROM runs r WHERE trial = ? AND created_at = (SELECT MAX(created_at) FROM runs s WHERE s.trial = r.trial AND s.sweep IS NOT DISTINCT FROM r.sweep)
     ORDER BY created_at COLLATE BINARY, id COLLATE BINARY`,
    ref,
  );
  if (byTrial.length === 1) return toRunRecord(byTrial[0]!);
  if (byTrial.length > 1) throw ambiguous(ref, byTrial);
  throw new UserError(
    `run ${JSON.stringify(ref)}: no run with that id, name or trial name in the store (list them with: exp runs)`,
  );
}

/** One line however many runs match: the first few candidates, then a count of the rest. */
function ambiguous(ref: string, rs: RunRow[]): UserError {
  const shown = rs.slice(0, 4).map((r) => `${r.id} (${r.sweep ? `${r.sweep}/${r.trial}` : r.name})`);
  const more = rs.length > shown.length ? ` and ${rs.length - shown.length} more` : '';
  return new UserError(
    `run ${JSON.stringify(ref)} is ambiguous: it matches ${rs.length} runs, ${shown.join(', ')}${more}; give a longer id prefix or sweep/trial`,
  );
}

export function* getEpochsRead(runId: string): Read<EpochRecord[]> {
  const rs = yield* rows<{
    epoch: number;
    loss: number | null;
    terms: string;
    lr: number | null;
    clips_per_sec: number | null;
    seconds: number | null;
    val_loss: number | null;
    val_acc: number | null;
  }>('SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch', runId);
  return rs.map((r) => ({
    epoch: r.epoch,
    loss: r.loss,
    terms: JSON.parse(r.terms) as Record<string, number>,
    lr: r.lr,
    clipsPerSec: r.clips_per_sec,
    seconds: r.seconds,
    valLoss: r.val_loss,
    valAcc: r.val_acc ?? null,
  }));
}

/** Every evaluation of a run, the evalEvery ones by epoch and then the final one. */
export function* getResultsRead(runId: string): Read<ResultSet[]> {
  const rs = yield* rows<{
    epoch: number;
    final: number;
    scope: 'id' | 'type' | 'average';
    type: string;
    machine_id: string;
    auc: number | null;
    pauc: number | null;
    pauc_mcclish: number | null;
  }>(
    'SELECT * FROM results WHERE run_id = ? ORDER BY final, epoch, scope COLLATE BINARY, type COLLATE BINARY, machine_id COLLATE BINARY',
    runId,
  );
  const sets = new Map<string, ResultSet>();
  for (const r of rs) {
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

export function* findTrialRunRead(sweep: string, hash: string): Read<RunRecord | null> {
  const [row] = yield* rows<RunRow>('SELECT * FROM runs WHERE sweep = ? AND config_hash = ?', sweep, hash);
  return row ? toRunRecord(row) : null;
}

export function* getFinalResultRead(runId: string): Read<ResultSet | null> {
  return (yield* getResultsRead(runId)).find((s) => s.final) ?? null;
}

export function* getScoresRead(runId: string, opts: ScoreFilter = {}): Read<ScoreRecord[]> {
  const where = ['run_id = ?'];
  const args: unknown[] = [runId];
  if (opts.final !== undefined) where.push('final = ?'), args.push(opts.final ? 1 : 0);
  if (opts.epoch !== undefined) where.push('epoch = ?'), args.push(opts.epoch);
  const rs = yield* rows<{
    epoch: number;
    final: number;
    path: string;
    type: string;
    machine_id: string;
    label: number;
    score: number | null;
  }>(`SELECT * FROM scores WHERE ${where.join(' AND ')} ORDER BY final, epoch, path COLLATE BINARY`, ...args);
  return rs.map((r) => ({
    epoch: r.epoch,
    final: r.final === 1,
    path: r.path,
    type: r.type,
    id: r.machine_id,
    label: r.label === 1 ? 1 : 0,
    score: num(r.score),
  }));
}

export function* getCheckpointsRead(runId: string): Read<CheckpointRecord[]> {
  const rs = yield* rows<{ epoch: number; path: string; best: number; created_at: string }>(
    'SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch',
    runId,
  );
  return rs.map((r) => ({ epoch: r.epoch, path: r.path, best: r.best === 1, createdAt: r.created_at }));
}
