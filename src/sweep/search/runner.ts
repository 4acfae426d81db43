import type { ExpandedSweep, Trial } from '../spec.js';
import type { RunStore } from '../../store/run-store.js';
import type { NewDecision, RungRow, StoredRungs } from '../../store/rungs.js';
import type { PausePoint } from '../../train/events.js';
import type { SearchPlan } from './plan.js';
import { PointSequence } from './sampler.js';
import {
  decideClosed,
  decideResult,
  nextWork,
  unitState,
  type Live,
  type SchedulerConfig,
  type Work,
} from './scheduler.js';
import type { Decision, RungResult, RungTable } from './rules.js';
import { isTestMetric } from './space.js';
import { leaseAlive } from '../../store/stale.js';

/**
 * Runs an adaptive sweep: materialises configurations from the search (or the listed trials),
 * hands rung-sized pieces of work to `concurrency` workers, stores every rung result and the
 * decisions it leads to (RunStore.recordRungs), and reads everything back from the store before
 * each choice, so a restarted sweep continues from the table alone.
 */

/** Trains one trial up to a rung; resolves to its run id and whether it got there. */
export type TrainTrial = (trial: Trial, pauseAt: PausePoint | undefined) => Promise<TrainOutcome>;

export interface TrainOutcome {
  runId: string | null;
  /** The trial got to the rung (paused there, or done at the last one). */
  reached: boolean;
  failed: boolean;
  /** Another live process holds the trial. */
  busy?: boolean;
}

export interface RunnerHooks {
  /** New configurations (their trials) became known. */
  onUnits(units: Trial[][]): void;
  /** Decisions were stored (to show paused / promoted / pruned). */
  onDecisions(decisions: readonly NewDecision[], units: Trial[][]): void;
}

export interface AdaptiveOptions {
  sweep: ExpandedSweep;
  plan: SearchPlan;
  store: RunStore;
  concurrency: number;
  /**
   * How long a run's lease lasts without a heartbeat (a run 'running' under a lease that ran out
   * is free to be taken over), and how often to look at the store again while other processes
   * (workers, another exp sweep) hold the work that everything else waits for.
   */
  leaseSeconds: number;
  pollMs?: number;
  train: TrainTrial;
  stopping: () => boolean;
  hooks: RunnerHooks;
}

/** A configuration's name without its seed suffix. */
export const unitLabel = (t: Trial): string => t.name.replace(/\/seed=\d+$/, '');

export class AdaptiveRunner {
  readonly units: Trial[][] = [];
  private readonly running = new Set<number>();
  /** Configurations that failed in this process before the store had a row for them (a preflight refusal). */
  private readonly failed = new Set<number>();
  private readonly seq: PointSequence | null;
  private complete = false;
  private table: StoredRungs = { results: [], decisions: [] };
  private wake: Array<() => void> = [];
  readonly cfg: SchedulerConfig;

  constructor(private readonly o: AdaptiveOptions) {
    const p = o.plan;
    this.cfg = { method: p.prune.method, rungs: p.rungs, reduction: p.prune.reduction, minPeers: p.prune.minPeers };
    this.seq = p.search ? new PointSequence(p.search) : null;
    if (p.listed) {
      this.units.push(...p.listed);
      this.complete = true;
    }
  }

  /** The scheduler's table: a configuration's value at a rung is the mean over its seeds, once all have one. */
  schedTable(table: StoredRungs = this.table): RungTable {
    const sign = this.o.plan.mode === 'max' ? -1 : 1;
    const seen = new Map<string, number[]>();
    const results: RungResult[] = [];
    for (const r of table.results) {
      const key = `${r.unit}@${r.rung}`;
      const vals = seen.get(key) ?? [];
      vals.push(r.value === null ? Number.POSITIVE_INFINITY : sign * r.value);
      seen.set(key, vals);
      if (vals.length === this.o.plan.seeds)
        results.push({ unit: r.unit, rung: r.rung, value: vals.reduce((a, b) => a + b, 0) / vals.length });
    }
    const decisions: Decision[] = table.decisions.map((d) => ({
      unit: d.unit,
      rung: d.rung,
      action: d.action,
      reason: d.reason,
      basis: d.basis as unknown as Decision['basis'],
    }));
    return { results, decisions };
  }

  /**
   * What is running or failed, from the store's runs (read with the table) and this process: with
   * several workers no process knows from memory what the others hold.
   */
  private live(table: StoredRungs = this.table): Live {
    const unitOf = new Map<string, number>();
    this.units.forEach((trials, u) => {
      for (const t of trials) unitOf.set(t.hash, u);
    });
    const running = new Set(this.running);
    const failed = new Set(this.failed);
    for (const r of table.runs ?? []) {
      const u = unitOf.get(r.configHash);
      if (u === undefined) continue;
      if (r.status === 'failed') failed.add(u);
      const lease = { host: r.host, pid: r.pid, heartbeat_at: r.heartbeatAt };
      if (r.status === 'running' && leaseAlive(lease, this.o.leaseSeconds)) running.add(u);
    }
    return { running, failed, count: this.units.length, complete: this.complete };
  }

  /** True when every configuration there will be has finished, been stopped, or failed. */
  finished(): boolean {
    this.materialise();
    const live = this.live();
    if (!live.complete) return false;
    const table = this.schedTable();
    for (let u = 0; u < live.count; u++) {
      const s = unitState(this.cfg, table, u, live.failed);
      if (s.kind === 'failed' || s.kind === 'finished') continue;
      if (s.kind === 'at' && s.action === 'stop') continue;
      return false;
    }
    return true;
  }

  /** Reads the rung table (and the sweep's runs) again. */
  async refresh(): Promise<void> {
    this.table = await this.o.store.rungTable(this.o.sweep.name);
  }

  /** TPE sees a configuration's value at the first rung (every configuration has one). */
  private valueOf = (k: number): number | undefined => {
    if (this.live().failed.has(k)) return Number.NaN;
    return this.schedTable().results.find((r) => r.unit === k && r.rung === this.cfg.rungs[0])?.value;
  };

  private materialise(): void {
    if (!this.seq) return;
    const fresh: Trial[][] = [];
    while (!this.complete) {
      const next = this.seq.at(this.units.length, this.valueOf);
      if (next.kind === 'end') this.complete = true;
      if (next.kind !== 'point') break;
      const trials = this.o.plan.makeTrials(this.units.length, next.point);
      this.units.push(trials);
      fresh.push(trials);
    }
    if (fresh.length > 0) this.o.hooks.onUnits(fresh);
  }

  private toNew(ds: readonly Decision[]): NewDecision[] {
    return ds.map((d) => ({
      unit: d.unit,
      unitName: unitLabel(this.units[d.unit]![0]!),
      rung: d.rung,
      action: d.action,
      reason: d.reason,
      basis: { ...d.basis },
    }));
  }

  private async record(rows: RungRow[], unit: number | null, rung: number): Promise<void> {
    const stored = await this.o.store.recordRungs(this.o.sweep.name, rows, (t) => {
      const table = this.schedTable(t);
      const out: Decision[] = [];
      const complete = unit !== null && table.results.some((r) => r.unit === unit && r.rung === rung);
      const decided = unit !== null && table.decisions.some((d) => d.unit === unit && d.rung === rung);
      // A replayed result (after a kill) finds its decision already stored: nothing is decided twice.
      if (complete && !decided) out.push(...decideResult(this.cfg, table, unit, rung));
      out.push(
        ...decideClosed(this.cfg, { results: table.results, decisions: [...table.decisions, ...out] }, this.live(t)),
      );
      return this.toNew(out);
    });
    this.table = await this.o.store.rungTable(this.o.sweep.name);
    if (stored.length > 0) this.o.hooks.onDecisions(stored, this.units);
  }

  async run(): Promise<void> {
    this.table = await this.o.store.rungTable(this.o.sweep.name);
    this.materialise();
    this.o.hooks.onDecisions(this.table.decisions, this.units);
    await Promise.all(Array.from({ length: this.o.concurrency }, () => this.worker()));
  }

  private notify(): void {
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }

  /** Until one of this process's trainings ends, or pollMs passes (another process may have reported). */
  private idle(): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, this.o.pollMs ?? 2000);
      this.wake.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }

  private async worker(): Promise<void> {
    while (!this.o.stopping()) {
      this.materialise();
      const live = this.live();
      const work = nextWork(this.cfg, this.schedTable(), live);
      if (work) {
        this.running.add(work.unit);
        try {
          await this.train(work);
        } finally {
          this.running.delete(work.unit);
          await this.refresh();
          this.notify();
        }
        continue;
      }
      // Work held elsewhere (or a TPE point waiting for results) ends by a result in the store: look again.
      const waiting = live.running.size > this.running.size || (this.seq !== null && !this.complete);
      if (this.running.size > 0 || waiting) {
        await this.idle();
        if (this.running.size === 0) await this.refresh();
        continue;
      }
      // Nothing running anywhere and nothing to hand out: close what can be closed, then stop if that changed nothing.
      const before = this.table.decisions.length;
      await this.record([], null, 0);
      if (this.table.decisions.length === before) return;
    }
  }

  private async train(work: Work): Promise<void> {
    const last = this.cfg.rungs[this.cfg.rungs.length - 1]!;
    const metric = this.o.plan.metric;
    const pauseAt: PausePoint | undefined =
      work.toEpoch < last ? { epoch: work.toEpoch, after: isTestMetric(metric) ? 'eval' : 'epoch' } : undefined;
    const have = new Set(
      this.table.results.filter((r) => r.unit === work.unit && r.rung === work.toEpoch).map((r) => r.runId),
    );
    for (const trial of this.units[work.unit]!) {
      if (this.o.stopping()) return;
      const existing = await this.o.store.findTrialRun(this.o.sweep.name, trial.hash);
      if (existing && have.has(existing.id)) continue;
      // A run already at the rung (killed after training, before its result was stored) is not trained again.
      const stored = existing ? await this.valueAt(existing.id, work.toEpoch, existing.status === 'done') : undefined;
      let runId = existing?.id ?? null;
      if (stored === undefined) {
        const out = await this.o.train(trial, pauseAt);
        if (out.failed) {
          this.failed.add(work.unit);
          return;
        }
        if (!out.reached || out.runId === null) return;
        runId = out.runId;
      }
      const value = stored ?? (await this.valueAt(runId!, work.toEpoch, work.toEpoch === last)) ?? null;
      await this.record(
        [{ runId: runId!, unit: work.unit, rung: work.toEpoch, metric, value }],
        work.unit,
        work.toEpoch,
      );
    }
  }

  /** The objective of a run at an epoch, from the store; undefined when the run has not got there. */
  private async valueAt(runId: string, epoch: number, final: boolean): Promise<number | null | undefined> {
    const metric = this.o.plan.metric;
    if (metric === 'valLoss' || metric === 'valAcc' || metric === 'loss') {
      const e = (await this.o.store.getEpochs(runId)).find((x) => x.epoch === epoch);
      if (!e) return undefined;
      return metric === 'loss' ? e.loss : metric === 'valAcc' ? e.valAcc : e.valLoss;
    }
    const results = await this.o.store.getResults(runId);
    const r = results.find((x) => !x.final && x.epoch === epoch) ?? (final ? results.find((x) => x.final) : undefined);
    if (!r) return undefined;
    return r.average?.[metric] ?? null;
  }
}
