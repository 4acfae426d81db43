import type { ExperimentConfig } from '../config/schema.js';
import PQueue from 'p-queue';
import { sweepRecord, type ExpandedSweep, type Trial } from './spec.js';
import { SweepStateStore, initialTrialView, type TrialView } from './state.js';
import { describeStoreLost, runSession } from '../session/session.js';
import { isStoreUnreachable } from '../store/store-errors.js';
import { ChildTrainer } from '../session/child-trainer.js';
import { openRunStore } from '../store/open.js';
import { DEFAULT_STALE_SECONDS } from '../store/db.js';
import type { ClaimPolicy } from '../store/writes.js';
import type { RunStore, SweepClaimContext } from '../store/run-store.js';
import type { TrainEvent } from '../events/index.js';
import { messageOf } from '../util/errors.js';
import type { PausePoint } from '../train/events.js';
import { AdaptiveRunner, type TrainOutcome } from './search/runner.js';
import { adaptiveInfo, adaptiveViews } from './search/summary.js';
import type { NewDecision } from '../store/rungs.js';
import { describeParallelism, type Parallelism } from './parallelism.js';
import type { SearchPlan } from './search/plan.js';

export interface SweepEngineOptions {
  sweep: ExpandedSweep;
  dbFile: string;
  /** Directory for run directories, recorded with each run. */
  artifacts?: string | null;
  /** Checks run before each trial's row is taken (src/preflight); a refusal fails only that trial. */
  preflight?: (config: ExperimentConfig) => Promise<void>;
  /**
   * Work shared by the trials left to run, done once before the first starts (the local executor:
   * filling the feature cache on every core); `signal` aborts on a stop. Best effort: it must not throw.
   */
  prepare?: {
    /** Shown as the sweep's message meanwhile. */
    what: string;
    run: (configs: readonly ExperimentConfig[], signal: AbortSignal) => Promise<void>;
  };
  /**
   * Trials trained at once: a number, or a rule (src/sweep/parallelism.ts) given how many trials
   * are left to run once the store is read (an adaptive sweep: its configurations). A rule's
   * thread count reaches the trial processes as EXP_THREADS.
   */
  concurrency: number | ((pending: number) => Parallelism);
  backend: string;
  rerunFailed: boolean;
  force: boolean;
  staleSeconds?: number;
  /** Seconds a trial's process gets to stop (and checkpoint) after Ctrl-C before it is killed. */
  stopGraceSeconds?: number;
}

export interface SweepSummary {
  /** Configurations an adaptive sweep stopped at a rung. */
  pruned?: number;
  done: number;
  failed: number;
  interrupted: number;
  busy: number;
  stopped: boolean;
  /** The store's server stayed unreachable: the sweep stopped; one line saying where each trial stands. */
  storeLost: string | null;
}

/**
 * Runs a sweep: plans from the store (done trials are skipped), queues the rest on a p-queue and
 * runs each through a run session whose trainer is a child process; this process alone writes the
 * store. Publishes a SweepStateStore (src/sweep/state.ts) that the dashboard and the plain
 * progress lines read.
 */
export class SweepEngine {
  private readonly queue: PQueue;
  private readonly trainers = new Set<ChildTrainer>();
  private readonly stopper = new AbortController();
  private readonly ctx: SweepClaimContext;

  private constructor(
    private readonly opts: SweepEngineOptions,
    readonly store: RunStore,
    private readonly policy: ClaimPolicy,
    readonly state: SweepStateStore,
    /** What was chosen; `threads` goes to every trial process this engine starts. */
    readonly parallelism: Parallelism | null,
  ) {
    this.queue = new PQueue({ concurrency: state.get().concurrency });
    this.ctx = { sweep: opts.sweep.name, profile: opts.sweep.profile };
  }

  /** Opens the store, records the sweep and plans every trial from what is stored. */
  static async open(opts: SweepEngineOptions): Promise<SweepEngine> {
    const staleSeconds = opts.staleSeconds ?? DEFAULT_STALE_SECONDS;
    const store = await openRunStore(opts.dbFile, { staleSeconds, artifacts: opts.artifacts ?? null });
    const { sweep } = opts;
    const policy: ClaimPolicy = {
      rerunFailed: opts.rerunFailed,
      force: opts.force,
      staleSeconds,
      forceBefore: Date.now(),
    };
    try {
      await store.registerSweep(sweepRecord(sweep));
      const ctx = { sweep: sweep.name, profile: sweep.profile };
      const trials: TrialView[] = [];
      for (const t of sweep.trials) trials.push(await plan(store, ctx, policy, t));
      const pending = sweep.search ? configurations(sweep.search) : trials.filter((t) => t.status === 'queued').length;
      const chosen = typeof opts.concurrency === 'number' ? null : opts.concurrency(pending);
      const state = new SweepStateStore({
        sweep: sweep.name,
        profile: sweep.profile,
        concurrency: chosen?.concurrency ?? (opts.concurrency as number),
        ...(chosen ? { parallelism: describeParallelism(chosen) } : {}),
        startedAt: Date.now(),
        trials,
        message: null,
        finished: false,
        dbFile: opts.dbFile,
      });
      return new SweepEngine(opts, store, policy, state, chosen);
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  get stopping(): boolean {
    return this.stopper.signal.aborted;
  }

  async run(): Promise<SweepSummary> {
    await this.prepare();
    if (this.opts.sweep.search) await this.runAdaptive();
    else {
      for (const t of this.opts.sweep.trials) {
        if (this.state.get().trials[t.index]!.status !== 'queued') continue;
        void this.queue.add(() => this.trial(t));
      }
      await this.queue.onIdle();
    }
    const s = this.state.get();
    const count = (st: string) => s.trials.filter((t) => t.status === st).length;
    const summary: SweepSummary = {
      done: count('done'),
      failed: count('failed'),
      interrupted: count('interrupted') + count('queued'),
      busy: count('busy'),
      stopped: this.stopping,
      storeLost: this.storeLost,
      pruned: count('pruned'),
    };
    this.state.update(
      (x) => ({
        ...x,
        finished: true,
        message: this.stopping ? 'stopped: interrupted trials resume on the next run' : 'finished',
      }),
      true,
    );
    return summary;
  }

  private storeLost: string | null = null;

  /** The prepare hook with the configs of the trials still to run (an adaptive sweep: its configurations). */
  private async prepare(): Promise<void> {
    if (!this.opts.prepare || this.stopping) return;
    const { sweep } = this.opts;
    const views = this.state.get().trials;
    const configs = sweep.search
      ? sweep.search.sample.map((t) => t.config)
      : sweep.trials.filter((t) => views[t.index]?.status === 'queued').map((t) => t.config);
    if (configs.length === 0) return;
    this.state.update((x) => ({ ...x, message: this.opts.prepare!.what }), true);
    await this.opts.prepare.run(configs, this.stopper.signal);
    this.state.update((x) => (x.message === this.opts.prepare!.what ? { ...x, message: null } : x), true);
  }

  /** The store is gone: no new trials; the others running stop the same way on their next write. */
  private lostStore(line: string): void {
    this.storeLost ??= line;
    if (!this.stopping) this.stop('the run store is unreachable');
  }

  /** Ctrl-C / SIGTERM: no new trials, running ones stop at their next step and checkpoint; a second call kills them at once. */
  stop(reason = 'SIGINT'): void {
    if (this.stopping) {
      for (const t of this.trainers) t.kill();
      return;
    }
    this.queue.clear();
    this.state.update(
      (s) => ({ ...s, message: 'stopping: running trials will be marked interrupted (resumable)' }),
      true,
    );
    this.stopper.abort(reason);
  }

  async close(): Promise<void> {
    this.state.flush();
    await this.store.close();
  }

  /** An adaptive sweep (src/sweep/search/): rung by rung, decisions stored as they are made. */
  private async runAdaptive(): Promise<void> {
    const plan = this.opts.sweep.search!;
    const viewOf = new Map<string, number>();
    const addViews = (units: Trial[][]) => {
      const fresh = units.flat().filter((t) => !viewOf.has(t.name));
      if (fresh.length === 0) return;
      this.state.update((s) => {
        const trials = [...s.trials];
        for (const t of fresh) {
          viewOf.set(t.name, trials.length);
          trials.push({ ...initialTrialView(trials.length, t.name, t.paper), status: 'queued' });
        }
        return { ...s, trials };
      }, true);
    };
    for (const t of this.opts.sweep.trials) viewOf.set(t.name, t.index);
    const runner: AdaptiveRunner = new AdaptiveRunner({
      sweep: this.opts.sweep,
      plan,
      store: this.store,
      concurrency: this.state.get().concurrency,
      leaseSeconds: this.policy.staleSeconds,
      stopping: () => this.stopping,
      train: async (t, pauseAt) => this.trial({ ...t, index: viewOf.get(t.name)! }, pauseAt),
      hooks: {
        onUnits: addViews,
        onDecisions: (ds: readonly NewDecision[], units) => {
          for (const d of ds) {
            for (const t of units[d.unit] ?? []) {
              const i = viewOf.get(t.name);
              if (i === undefined) continue;
              const status = d.action === 'stop' ? 'pruned' : d.action === 'pause' ? 'paused' : 'promoted';
              this.state.updateTrial(i, { status, error: `epoch ${d.rung}: ${d.reason}` }, true);
            }
          }
          // The rung line is a view: a store that fails here fails the next real write too, and says so there.
          this.publishRungs().catch(() => undefined);
        },
      },
    });
    await runner.run();
    await this.publishRungs();
  }

  /**
   * Rung counts and the epochs spent against the full grid's, for the dashboard: counted from the
   * store (so trials run by an earlier invocation count too), as exp sweep status counts them.
   */
  private async publishRungs(): Promise<void> {
    const info = adaptiveInfo(this.opts.sweep.spec);
    if (!info) return;
    const name = this.opts.sweep.name;
    const byTrial = new Map((await this.store.sweepProgress(name)).map((p) => [p.trial, p]));
    const table = await this.store.rungTable(name);
    this.state.update((s) => {
      const trials = s.trials.map((t): TrialView => {
        const p = byTrial.get(t.name);
        if (!p || t.status === 'running') return t;
        const lastEpoch = p.lastEpoch
          ? { epoch: p.lastEpoch.epoch, loss: p.lastEpoch.loss, clipsPerSec: p.lastEpoch.clipsPerSec }
          : t.lastEpoch;
        const finished = t.status === 'queued' && p.status === 'done';
        return {
          ...t,
          runId: t.runId ?? p.runId,
          lastEpoch,
          ...(finished ? { status: 'done' as const, result: p.result } : {}),
        };
      });
      return { ...s, trials, rungs: adaptiveViews(info, trials, table).summary };
    }, true);
  }

  private async trial(t: Trial, pauseAt?: PausePoint): Promise<TrainOutcome> {
    const none = { runId: null, reached: false, failed: false };
    if (this.stopping) return none;
    const threads = this.parallelism?.threads ?? null;
    const trainer = new ChildTrainer(
      this.opts.stopGraceSeconds ?? 10,
      threads === null ? undefined : { ...process.env, EXP_THREADS: String(threads) },
    );
    this.trainers.add(trainer);
    try {
      const outcome = await runSession({
        store: this.store,
        target: { kind: 'trial', sweep: this.ctx, trial: t, policy: this.policy },
        ...(pauseAt ? { pauseAt } : {}),
        trainer: trainer.train,
        backend: this.opts.backend,
        signal: this.stopper.signal,
        heartbeatMs: 5000,
        ...(this.opts.preflight ? { preflight: this.opts.preflight } : {}),
        onStart: ({ run, resumeFrom }) =>
          this.state.updateTrial(
            t.index,
            {
              status: 'running',
              runId: run.id,
              startedAt: Date.now(),
              resumed: resumeFrom !== null,
              error: null,
              epoch: 0,
              step: 0,
              lastEpoch: null,
            },
            true,
          ),
        onEvent: (e) => this.view(t.index, e),
      });
      if (outcome.status === 'skipped') {
        this.state.updateTrial(t.index, { status: outcome.reason, runId: outcome.run.id }, true);
        return {
          runId: outcome.run.id,
          reached: outcome.reason === 'done',
          failed: outcome.reason === 'failed',
          busy: outcome.reason === 'busy',
        };
      }
      if (outcome.status === 'store-lost') {
        const line = describeStoreLost(outcome, this.policy.staleSeconds, 'exp sweep with the same arguments');
        this.state.updateTrial(t.index, { status: 'interrupted', error: line, finishedAt: Date.now() }, true);
        this.lostStore(line);
        return none;
      }
      const paused = outcome.status === 'paused';
      const error = outcome.status === 'done' ? null : outcome.status === 'failed' ? outcome.message : outcome.reason;
      const result = outcome.status === 'done' ? await this.store.finalAverage(outcome.run.id) : null;
      this.state.updateTrial(
        t.index,
        { status: paused ? 'paused' : outcome.status, error, finishedAt: Date.now(), result },
        true,
      );
      return {
        runId: outcome.run.id,
        reached: outcome.status === 'done' || paused,
        failed: outcome.status === 'failed',
      };
    } catch (e) {
      if (isStoreUnreachable(e)) {
        // Nothing was taken: the trial is as it was in the store.
        this.lostStore(`${e.message}; trial ${t.name} was not started`);
        return none;
      }
      // Refused before the run was taken (preflight) or the store failed while claiming.
      this.state.updateTrial(t.index, { status: 'failed', error: messageOf(e), finishedAt: Date.now() }, true);
      return { ...none, failed: true };
    } finally {
      this.trainers.delete(trainer);
    }
  }

  private view(index: number, e: TrainEvent): void {
    switch (e.kind) {
      case 'start':
        this.state.updateTrial(index, {
          epochs: e.epochs,
          startEpoch: e.startEpoch,
          epoch: e.startEpoch,
          step: 0,
          stepsPerEpoch: e.stepsPerEpoch,
        });
        break;
      case 'step':
        this.state.updateTrial(index, {
          epoch: e.epoch,
          step: e.step,
          stepsPerEpoch: e.stepsPerEpoch,
          loss: e.loss,
          clipsPerSec: e.clipsPerSec,
        });
        break;
      case 'epoch':
        this.state.updateTrial(
          index,
          {
            epoch: e.epoch,
            epochs: e.epochs,
            loss: e.loss,
            clipsPerSec: e.clipsPerSec,
            lastEpoch: { epoch: e.epoch, loss: e.loss, clipsPerSec: e.clipsPerSec },
            terms: e.terms,
          },
          true,
        );
        break;
      default:
        break;
    }
  }
}

/** How many configurations an adaptive sweep trains: its listed ones, or what its search samples. */
function configurations(plan: SearchPlan): number {
  if (plan.listed) return plan.listed.length;
  return Math.min(plan.search?.trials ?? Number.MAX_SAFE_INTEGER, plan.gridSize ?? Number.MAX_SAFE_INTEGER);
}

/** A trial's row in the plan: what the store holds for it and what a claim would do now. */
async function plan(store: RunStore, ctx: SweepClaimContext, policy: ClaimPolicy, t: Trial): Promise<TrialView> {
  const view = initialTrialView(t.index, t.name, t.paper);
  const run = await store.findTrialRun(ctx.sweep, t.hash);
  const decision = await store.peekTrial(ctx, t, policy);
  if (run) Object.assign(view, { runId: run.id, error: run.error });
  if (decision === 'run') return view;
  view.status = decision;
  if (run && decision === 'done') view.result = await store.finalAverage(run.id);
  return view;
}
