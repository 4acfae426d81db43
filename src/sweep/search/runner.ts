import type { ExpandedSweep, Trial } from '../spec.js';
import type { RunStore } from '../../store/run-store.js';
import type { NewDecision, RungRow, StoredRungs } from '../../store/rungs.js';
import type { PausePoint } from '../../train/events.js';
import type { SearchPlan } from './plan.js';
import { PointSequence } from './sampler.js';
import { decideClosed, decideResult, nextWork, type Live, type SchedulerConfig, type Work } from './scheduler.js';
import type { Decision, RungResult, RungTable } from './rules.js';
import { isTestMetric } from './space.js';

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
  train: TrainTrial;
  stopping: () => boolean;
  hooks: RunnerHooks;
}

/** A configuration's name without its seed suffix. */
export const unitLabel = (t: Trial): string => t.name.replace(/\/seed=\d+$/, '');

export class AdaptiveRunner {
  readonly units: Trial[][] = [];
  private readonly running = new Set<number>();
  private readonly failed = new Set<number>();
  /** Configurations whose trial another live process holds: left to it (never spun on) until the next invocation. */
  private readonly elsewhere = new Set<number>();
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

  private live(): Live {
    return {
      running: new Set([...this.running, ...this.elsewhere]),
      failed: this.failed,
      count: this.units.length,
      complete: this.complete,
    };
  }

  /** TPE sees a configuration's value at the first rung (every configuration has one). */
  private valueOf = (k: number): number | undefined => {
    if (this.failed.has(k)) return Number.NaN;
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
        ...decideClosed(this.cfg, { results: table.results, decisions: [...table.decisions, ...out] }, this.live()),
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

  private async worker(): Promise<void> {
    while (!this.o.stopping()) {
      this.materialise();
      const work = nextWork(this.cfg, this.schedTable(), this.live());
      if (work) {
        this.running.add(work.unit);
        try {
          await this.train(work);
        } finally {
          this.running.delete(work.unit);
          this.notify();
        }
        continue;
      }
      if (this.running.size > 0) {
        await new Promise<void>((r) => this.wake.push(r));
        continue;
      }
      // Nothing running and nothing to hand out: close what can be closed, then stop if that changed nothing.
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
        if (out.busy) this.elsewhere.add(work.unit);
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
    if (metric === 'valLoss' || metric === 'loss') {
      const e = (await this.o.store.getEpochs(runId)).find((x) => x.epoch === epoch);
      if (!e) return undefined;
      return metric === 'loss' ? e.loss : e.valLoss;
    }
    const results = await this.o.store.getResults(runId);
    const r = results.find((x) => !x.final && x.epoch === epoch) ?? (final ? results.find((x) => x.final) : undefined);
    if (!r) return undefined;
    return r.average?.[metric] ?? null;
  }
}
