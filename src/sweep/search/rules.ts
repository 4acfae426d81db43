/**
 * Pruning rules as pure functions over the rung table, the rows the store keeps (one result per
 * configuration and rung, decisions appended, never rewritten). Nothing here remembers anything:
 * what was decided is read back from the table, so a restarted sweep decides exactly as before.
 *
 * Values are oriented: smaller is better (a metric to maximise is negated before it gets here).
 * Ties are broken by the configuration's index, so the outcome does not depend on row order.
 */

export type Action = 'promote' | 'pause' | 'stop';

export interface RungResult {
  /** The configuration (unit of scheduling: all its seeds together). */
  unit: number;
  /** The rung's epoch. */
  rung: number;
  value: number;
}

/** The numbers a decision was based on, stored with it. */
export interface Basis {
  value: number;
  /** How many configurations had a value at this rung. */
  n: number;
  /** 1-based rank of this configuration among them (1 = best). */
  rank: number;
  /** asha: how many may be promoted from this rung now (floor(n / reduction)); median: the peers' median. */
  quota?: number;
  median?: number;
}

export interface Decision {
  unit: number;
  rung: number;
  action: Action;
  reason: string;
  basis: Basis;
}

export interface RungTable {
  results: readonly RungResult[];
  decisions: readonly Decision[];
}

/** What a rule needs to know besides the table. */
export interface RuleContext {
  reduction: number;
  minPeers: number;
}

export interface PruneRule {
  /** Decisions to append when `unit` reports at (non-final) `rung`: its own, and any others it unlocks. */
  onResult(table: RungTable, unit: number, rung: number, ctx: RuleContext): Decision[];
  /** Decisions to append once no other configuration can report at `rung` (the rung is closed). */
  onClose(table: RungTable, rung: number, ctx: RuleContext): Decision[];
}

/** Results at a rung, best first (value, then configuration index). */
export function ranked(table: RungTable, rung: number): RungResult[] {
  return table.results.filter((r) => r.rung === rung).sort((a, b) => a.value - b.value || a.unit - b.unit);
}

/** The decision in force for (unit, rung): the last one appended. */
export function latestDecision(table: RungTable, unit: number, rung: number): Decision | undefined {
  for (let i = table.decisions.length - 1; i >= 0; i--) {
    const d = table.decisions[i]!;
    if (d.unit === unit && d.rung === rung) return d;
  }
  return undefined;
}

const fmt = (x: number): string => (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(3));

/**
 * Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
 * Tuning", MLSys 2020): a configuration at rung r is promoted when it is among the best
 * floor(n / reduction) of the n configurations that reached r so far, and fewer than that many
 * have been promoted from r; otherwise it is paused there, and may be promoted later when others
 * arrive. When the rung closes, whoever is still paused is stopped. So at most floor(n / reduction)
 * configurations leave a rung, n counted when each promotion is made, with one exception: when a
 * rung closes with fewer than `reduction` configurations, its best one goes on (a sweep always
 * trains at least one configuration to the end).
 */
export const asha: PruneRule = {
  onResult(table, unit, rung, ctx) {
    const out: Decision[] = [];
    const view = (): RungTable => ({ results: table.results, decisions: [...table.decisions, ...out] });
    out.push(...promotions(view(), rung, ctx));
    if (!out.some((d) => d.unit === unit)) {
      const order = ranked(table, rung);
      const rank = order.findIndex((r) => r.unit === unit) + 1;
      const quota = Math.floor(order.length / ctx.reduction);
      out.push({
        unit,
        rung,
        action: 'pause',
        basis: { value: order[rank - 1]!.value, n: order.length, rank, quota },
        reason: `rank ${rank} of ${order.length} at epoch ${rung}: not in the best ${quota} (1/${ctx.reduction}) yet`,
      });
    }
    return out;
  },
  onClose(table, rung, ctx) {
    const out = promotions(table, rung, ctx, 1);
    const view: RungTable = { results: table.results, decisions: [...table.decisions, ...out] };
    const order = ranked(table, rung);
    const quota = Math.floor(order.length / ctx.reduction);
    order.forEach((r, i) => {
      if (latestDecision(view, r.unit, rung)?.action !== 'pause') return;
      out.push({
        unit: r.unit,
        rung,
        action: 'stop',
        basis: { value: r.value, n: order.length, rank: i + 1, quota },
        reason: `rank ${i + 1} of ${order.length} at epoch ${rung} (value ${fmt(r.value)}): outside the best ${quota} when the rung closed`,
      });
    });
    return out;
  },
};

/** Promotes the best not-yet-promoted configurations at a rung while its quota allows. */
function promotions(table: RungTable, rung: number, ctx: RuleContext, atLeast = 0): Decision[] {
  const order = ranked(table, rung);
  const quota = Math.min(order.length, Math.max(atLeast, Math.floor(order.length / ctx.reduction)));
  let promoted = order.filter((r) => latestDecision(table, r.unit, rung)?.action === 'promote').length;
  const out: Decision[] = [];
  for (let i = 0; i < quota && promoted < quota; i++) {
    const r = order[i]!;
    const d = latestDecision(table, r.unit, rung);
    if (d?.action === 'promote' || d?.action === 'stop') continue;
    promoted++;
    out.push({
      unit: r.unit,
      rung,
      action: 'promote',
      basis: { value: r.value, n: order.length, rank: i + 1, quota },
      reason: `rank ${i + 1} of ${order.length} at epoch ${rung} (value ${fmt(r.value)}): in the best ${quota}`,
    });
  }
  return out;
}

/**
 * The median stopping rule (Golovin et al., "Google Vizier", KDD 2017; Optuna's MedianPruner):
 * a configuration whose value at a rung is worse than the median of the other configurations'
 * values there is stopped, once at least `minPeers` others have one; otherwise it goes on.
 * It never pauses, so closing a rung decides nothing.
 */
export const median: PruneRule = {
  onResult(table, unit, rung, ctx) {
    const order = ranked(table, rung);
    const rank = order.findIndex((r) => r.unit === unit) + 1;
    const value = order[rank - 1]!.value;
    const peers = order.filter((r) => r.unit !== unit).map((r) => r.value);
    if (peers.length < ctx.minPeers) {
      return [
        {
          unit,
          rung,
          action: 'promote',
          basis: { value, n: order.length, rank },
          reason: `only ${peers.length} other value(s) at epoch ${rung} (need ${ctx.minPeers})`,
        },
      ];
    }
    const m = medianOf(peers);
    const worse = value > m;
    return [
      {
        unit,
        rung,
        action: worse ? 'stop' : 'promote',
        basis: { value, n: order.length, rank, median: m },
        reason: `value ${fmt(value)} ${worse ? 'worse than' : 'not worse than'} the median ${fmt(m)} of ${peers.length} other(s) at epoch ${rung}`,
      },
    ];
  },
  onClose: () => [],
};

/** No pruning: every configuration trains to the end (the rungs are still recorded). */
export const none: PruneRule = {
  onResult(table, unit, rung) {
    const order = ranked(table, rung);
    const rank = order.findIndex((r) => r.unit === unit) + 1;
    return [
      {
        unit,
        rung,
        action: 'promote',
        basis: { value: order[rank - 1]!.value, n: order.length, rank },
        reason: 'no pruning',
      },
    ];
  },
  onClose: () => [],
};

export function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

export const RULES: Readonly<Record<'asha' | 'median' | 'none', PruneRule>> = { asha, median, none };
