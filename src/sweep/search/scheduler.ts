import { latestDecision, RULES, type Decision, type RuleContext, type RungTable } from './rules.js';

/**
 * The pruning scheduler: which configuration trains next, to which rung, and what is decided when
 * one reports. A pure function of the rung table plus what the caller knows right now (which
 * configurations are running or failed, how many exist): it holds no state of its own, so a
 * sweep killed at any moment and started again picks up from the stored table.
 */

export interface SchedulerConfig extends RuleContext {
  method: keyof typeof RULES;
  /** Rung epochs, increasing; the last one is the full budget (maxEpochs). */
  rungs: readonly number[];
}

/** Training `unit` until epoch `toEpoch` (from its checkpoint at `fromEpoch`, 0 = from scratch). */
export interface Work {
  unit: number;
  fromEpoch: number;
  toEpoch: number;
}

export interface Live {
  /** Configurations some worker is training now. */
  running: ReadonlySet<number>;
  /** Configurations that failed (no value; they never block a rung). */
  failed: ReadonlySet<number>;
  /** Configurations that exist so far (0..count-1). */
  count: number;
  /** True once no configuration beyond `count` will ever be added. */
  complete: boolean;
}

export type UnitState =
  | { kind: 'new' }
  | { kind: 'failed' }
  | { kind: 'at'; rung: number; action: Decision['action'] | 'undecided' }
  | { kind: 'finished' };

const hasResult = (t: RungTable, unit: number, rung: number): boolean =>
  t.results.some((r) => r.unit === unit && r.rung === rung);

/** Where a configuration stands: its highest reported rung and the decision in force there. */
export function unitState(
  cfg: SchedulerConfig,
  table: RungTable,
  unit: number,
  failed: ReadonlySet<number>,
): UnitState {
  if (failed.has(unit)) return { kind: 'failed' };
  for (let i = cfg.rungs.length - 1; i >= 0; i--) {
    const rung = cfg.rungs[i]!;
    if (!hasResult(table, unit, rung)) continue;
    if (i === cfg.rungs.length - 1) return { kind: 'finished' };
    return { kind: 'at', rung, action: latestDecision(table, unit, rung)?.action ?? 'undecided' };
  }
  return { kind: 'new' };
}

/** The rung after `rung`. */
const after = (cfg: SchedulerConfig, rung: number): number => cfg.rungs[cfg.rungs.indexOf(rung) + 1]!;

/**
 * The next piece of work for a free worker, or null: first a promoted configuration that has not
 * trained its next rung (highest rung first, then index), then the lowest-index new one. A
 * paused or stopped configuration is never handed out.
 */
export function nextWork(cfg: SchedulerConfig, table: RungTable, live: Live): Work | null {
  let best: Work | null = null;
  for (let u = 0; u < live.count; u++) {
    if (live.running.has(u)) continue;
    const s = unitState(cfg, table, u, live.failed);
    if (s.kind === 'at' && s.action === 'promote') {
      const w = { unit: u, fromEpoch: s.rung, toEpoch: after(cfg, s.rung) };
      if (best === null || w.fromEpoch > best.fromEpoch) best = w;
    }
  }
  if (best) return best;
  for (let u = 0; u < live.count; u++) {
    if (live.running.has(u)) continue;
    if (unitState(cfg, table, u, live.failed).kind === 'new') return { unit: u, fromEpoch: 0, toEpoch: cfg.rungs[0]! };
  }
  return null;
}

/** Decisions to append after `unit` reported `value`-bearing result at `rung` (already in the table). */
export function decideResult(cfg: SchedulerConfig, table: RungTable, unit: number, rung: number): Decision[] {
  if (rung === cfg.rungs[cfg.rungs.length - 1]) return [];
  return RULES[cfg.method].onResult(table, unit, rung, cfg);
}

/**
 * Whether no configuration can still report at the rung of index `i`: every one (and no more
 * will be added) has a result there, failed, or was stopped at a lower rung.
 */
function isClosed(cfg: SchedulerConfig, table: RungTable, live: Live, i: number): boolean {
  if (!live.complete) return false;
  const rung = cfg.rungs[i]!;
  for (let u = 0; u < live.count; u++) {
    if (live.failed.has(u) || hasResult(table, u, rung)) continue;
    if (live.running.has(u)) return false;
    const s = unitState(cfg, table, u, live.failed);
    if (!(s.kind === 'at' && s.rung < rung && s.action === 'stop')) return false;
  }
  return true;
}

/**
 * Decisions to append for closed rungs, lowest first: closing a rung settles its paused
 * configurations (promoted or stopped), which may close the next rung in turn. Idempotent: a
 * rung with nothing left paused adds nothing.
 */
export function decideClosed(cfg: SchedulerConfig, table: RungTable, live: Live): Decision[] {
  const out: Decision[] = [];
  for (let i = 0; i < cfg.rungs.length - 1; i++) {
    const view: RungTable = { results: table.results, decisions: [...table.decisions, ...out] };
    if (!isClosed(cfg, view, live, i)) break;
    out.push(...RULES[cfg.method].onClose(view, cfg.rungs[i]!, cfg));
  }
  return out;
}
