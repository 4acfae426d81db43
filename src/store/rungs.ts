/**
 * The rung table of an adaptive sweep (migration 003): rung results per run and the pruning
 * decisions, appended in order. Written once for both engines, as reads.ts's reads and writes.ts's
 * writes are.
 * Recording a result and the decisions it leads to is one transaction holding the sweep's row,
 * so two workers never decide from the same table at once, and a kill between the two leaves
 * neither.
 */

import type { Query, Read } from './reads.js';
import type { Write } from './writes.js';
import type { RunStatus } from './types.js';

export type RungAction = 'promote' | 'pause' | 'stop';

export interface RungRow {
  runId: string;
  unit: number;
  rung: number;
  metric: string;
  /** The measured value; null when it was not a finite number. */
  value: number | null;
}

export interface NewDecision {
  unit: number;
  unitName: string;
  rung: number;
  action: RungAction;
  reason: string;
  basis: Record<string, number>;
}

export interface StoredDecision extends NewDecision {
  seq: number;
  decidedAt: string;
}

/** A run of the sweep as the scheduler needs it: which configuration, and whether it failed or is held by a live process. */
export interface SweepRunState {
  runId: string;
  configHash: string;
  status: RunStatus;
  host: string;
  pid: number | null;
  heartbeatAt: number | null;
}

export interface StoredRungs {
  results: RungRow[];
  decisions: StoredDecision[];
  /**
   * The sweep's runs (read with the table): with several workers, which configurations are
   * running or failed is known from the store, not from one process's memory.
   */
  runs?: SweepRunState[];
}

/** Computes the decisions to append from the table as it is inside the transaction. */
export type Decide = (table: StoredRungs) => NewDecision[];

export const RUNG_SQL = {
  /** Locks the sweep's row for the transaction (PostgreSQL; SQLite's IMMEDIATE transaction already serialises). */
  lockSweep: `SELECT name FROM sweeps WHERE name = ?`,
  insertResult: `INSERT INTO sweep_rungs (sweep, run_id, unit, rung, metric, value, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (sweep, run_id, rung) DO NOTHING`,
  results: `SELECT run_id, unit, rung, metric, value FROM sweep_rungs WHERE sweep = ? ORDER BY recorded_at, unit, rung, run_id`,
  decisions: `SELECT seq, unit, unit_name, rung, action, reason, basis, decided_at FROM sweep_decisions WHERE sweep = ? ORDER BY seq`,
  insertDecision: `INSERT INTO sweep_decisions (sweep, seq, unit, unit_name, rung, action, reason, basis, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  runs: `SELECT id, config_hash, status, host, pid, heartbeat_at FROM runs WHERE sweep = ? ORDER BY id`,
  /** A stopped configuration's runs (paused at the rung) become pruned, with the reason, in the decision's transaction. */
  prune: `UPDATE runs SET status = 'pruned', error = ? WHERE status IN ('paused', 'interrupted')
    AND id IN (SELECT run_id FROM sweep_rungs WHERE sweep = ? AND unit = ? AND rung = ?)`,
} as const;

export interface ResultDbRow {
  run_id: string;
  unit: number;
  rung: number;
  metric: string;
  value: number | null;
}

export interface DecisionDbRow {
  seq: number;
  unit: number;
  unit_name: string;
  rung: number;
  action: string;
  reason: string;
  basis: string;
  decided_at: string;
}

export const toRungRow = (r: ResultDbRow): RungRow => ({
  runId: r.run_id,
  unit: Number(r.unit),
  rung: Number(r.rung),
  metric: r.metric,
  value: r.value === null ? null : Number(r.value),
});

export const toDecision = (r: DecisionDbRow): StoredDecision => ({
  seq: Number(r.seq),
  unit: Number(r.unit),
  unitName: r.unit_name,
  rung: Number(r.rung),
  action: r.action as RungAction,
  reason: r.reason,
  basis: JSON.parse(r.basis) as Record<string, number>,
  decidedAt: r.decided_at,
});

export const resultParams = (sweep: string, r: RungRow, at: string): Array<string | number | null> => [
  sweep,
  r.runId,
  r.unit,
  r.rung,
  r.metric,
  r.value !== null && Number.isFinite(r.value) ? r.value : null,
  at,
];

/** Decisions numbered after the last stored one. */
export function decisionParams(
  sweep: string,
  after: number,
  ds: readonly NewDecision[],
  at: string,
): Array<Array<string | number>> {
  return ds.map((d, i) => [
    sweep,
    after + i + 1,
    d.unit,
    d.unitName,
    d.rung,
    d.action,
    d.reason,
    JSON.stringify(d.basis),
    at,
  ]);
}

function* exec<R>(sql: string, args: readonly unknown[], lock?: Query['lock']): Generator<Query, R[], unknown[]> {
  return (yield lock ? { sql, args: [...args], lock } : { sql, args: [...args] }) as R[];
}

interface RunStateDbRow {
  id: string;
  config_hash: string;
  status: string;
  host: string;
  pid: number | null;
  heartbeat_at: number | string | null;
}

export function* rungTableRead(sweep: string): Read<StoredRungs> {
  const results = (yield* exec<ResultDbRow>(RUNG_SQL.results, [sweep])).map(toRungRow);
  const decisions = (yield* exec<DecisionDbRow>(RUNG_SQL.decisions, [sweep])).map(toDecision);
  const runs = (yield* exec<RunStateDbRow>(RUNG_SQL.runs, [sweep])).map(
    (r): SweepRunState => ({
      runId: r.id,
      configHash: r.config_hash,
      status: r.status as RunStatus,
      host: r.host,
      pid: r.pid === null ? null : Number(r.pid),
      heartbeatAt: r.heartbeat_at === null ? null : Number(r.heartbeat_at),
    }),
  );
  return { results, decisions, runs };
}

/** Rung results, then the decisions `decide` computes from the table including them, in one write. */
export function* recordRungsWrite(sweep: string, rows: readonly RungRow[], decide: Decide): Write<StoredDecision[]> {
  // Every worker deciding for this sweep queues here: one table, one decider at a time.
  yield* exec(RUNG_SQL.lockSweep, [sweep], 'wait');
  const at = new Date().toISOString();
  for (const r of rows) yield* exec(RUNG_SQL.insertResult, resultParams(sweep, r, at));
  const table = yield* rungTableRead(sweep);
  const ds = decide(table);
  const after = table.decisions.at(-1)?.seq ?? 0;
  for (const p of decisionParams(sweep, after, ds, at)) yield* exec(RUNG_SQL.insertDecision, p);
  for (const d of ds.filter((x) => x.action === 'stop'))
    yield* exec(RUNG_SQL.prune, [`pruned at epoch ${d.rung}: ${d.reason}`, sweep, d.unit, d.rung]);
  return ds.map((d, i) => ({ ...d, seq: after + i + 1, decidedAt: at }));
}
