/**
 * The rung table of an adaptive sweep (migration 003): rung results per run and the pruning
 * decisions, appended in order. Written once with `?` placeholders for both engines (pgParams).
 * Recording a result and the decisions it leads to is one transaction holding the sweep's row,
 * so two workers never decide from the same table at once, and a kill between the two leaves
 * neither.
 */

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

export interface StoredRungs {
  results: RungRow[];
  decisions: StoredDecision[];
}

/** Computes the decisions to append from the table as it is inside the transaction. */
export type Decide = (table: StoredRungs) => NewDecision[];

export const RUNG_SQL = {
  /** Locks the sweep's row for the transaction (PostgreSQL; SQLite's IMMEDIATE transaction already serialises). */
  lockSweep: `SELECT name FROM sweeps WHERE name = ? FOR UPDATE`,
  insertResult: `INSERT INTO sweep_rungs (sweep, run_id, unit, rung, metric, value, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (sweep, run_id, rung) DO NOTHING`,
  results: `SELECT run_id, unit, rung, metric, value FROM sweep_rungs WHERE sweep = ? ORDER BY recorded_at, unit, rung, run_id`,
  decisions: `SELECT seq, unit, unit_name, rung, action, reason, basis, decided_at FROM sweep_decisions WHERE sweep = ? ORDER BY seq`,
  insertDecision: `INSERT INTO sweep_decisions (sweep, seq, unit, unit_name, rung, action, reason, basis, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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

export const toRungRow = (r: ResultDbRow): RungRow => ({ runId: r.run_id, unit: Number(r.unit), rung: Number(r.rung), metric: r.metric, value: r.value === null ? null : Number(r.value) });

export const toDecision = (r: DecisionDbRow): StoredDecision => ({
  seq: Number(r.seq), unit: Number(r.unit), unitName: r.unit_name, rung: Number(r.rung), action: r.action as RungAction, reason: r.reason,
  basis: JSON.parse(r.basis) as Record<string, number>, decidedAt: r.decided_at,
});

export const resultParams = (sweep: string, r: RungRow, at: string): Array<string | number | null> => [sweep, r.runId, r.unit, r.rung, r.metric, r.value !== null && Number.isFinite(r.value) ? r.value : null, at];

/** Decisions numbered after the last stored one. */
export function decisionParams(sweep: string, after: number, ds: readonly NewDecision[], at: string): Array<Array<string | number>> {
  return ds.map((d, i) => [sweep, after + i + 1, d.unit, d.unitName, d.rung, d.action, d.reason, JSON.stringify(d.basis), at]);
}
