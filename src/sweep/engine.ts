import type { ExperimentConfig } from '../config/schema.js';
import PQueue from 'p-queue';
import type { ExpandedSweep, Trial } from './spec.js';
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

export interface SweepEngineOptions {
  sweep: ExpandedSweep;
  dbFile: string;
  /** Directory for run directories, recorded with each run. */
  artifacts?: string | null;
  /** Checks run before each trial's row is taken (src/preflight); a refusal fails only that trial. */
  preflight?: (config: ExperimentConfig) => Promise<void>;
  /** Trials trained at once (default 1; on 2 cores, 2 measured ~15 % faster for the quick ablation). */
  concurrency: number;
  backend: string;
  rerunFailed: boolean;
  force: boolean;
  staleSeconds?: number;
  /** Seconds a trial's process gets to stop (and checkpoint) after Ctrl-C before it is killed. */
  stopGraceSeconds?: number;
}

export interface SweepSummary {
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
  ) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
    this.ctx = { sweep: opts.sweep.name, profile: opts.sweep.profile };
  }

  /** Opens the store, records the sweep and plans every trial from what is stored. */
  static async open(opts: SweepEngineOptions): Promise<SweepEngine> {
    const staleSeconds = opts.staleSeconds ?? DEFAULT_STALE_SECONDS;
    const store = await openRunStore(opts.dbFile, { staleSeconds, artifacts: opts.artifacts ?? null });
    const { sweep } = opts;
    const policy: ClaimPolicy = { rerunFailed: opts.rerunFailed, force: opts.force, staleSeconds, forceBefore: Date.now() };
    try {
      await store.registerSweep({ name: sweep.name, file: sweep.file, profile: sweep.profile, spec: sweep.spec, trials: sweep.trials });
      const ctx = { sweep: sweep.name, profile: sweep.profile };
      const trials: TrialView[] = [];
      for (const t of sweep.trials) trials.push(await plan(store, ctx, policy, t));
      const state = new SweepStateStore({
        sweep: sweep.name, profile: sweep.profile, concurrency: opts.concurrency, startedAt: Date.now(), trials, message: null, finished: false, dbFile: opts.dbFile,
      });
      return new SweepEngine(opts, store, policy, state);
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  get stopping(): boolean {
    return this.stopper.signal.aborted;
  }

  async run(): Promise<SweepSummary> {
    for (const t of this.opts.sweep.trials) {
      if (this.state.get().trials[t.index]!.status !== 'queued') continue;
      void this.queue.add(() => this.trial(t));
    }
    await this.queue.onIdle();
    const s = this.state.get();
    const count = (st: string) => s.trials.filter((t) => t.status === st).length;
    const summary: SweepSummary = { done: count('done'), failed: count('failed'), interrupted: count('interrupted') + count('queued'), busy: count('busy'), stopped: this.stopping, storeLost: this.storeLost };
    this.state.update((x) => ({ ...x, finished: true, message: this.stopping ? 'stopped: interrupted trials resume on the next run' : 'finished' }), true);
    return summary;
  }

  private storeLost: string | null = null;

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
    this.state.update((s) => ({ ...s, message: 'stopping: running trials will be marked interrupted (resumable)' }), true);
    this.stopper.abort(reason);
  }

  async close(): Promise<void> {
    this.state.flush();
    await this.store.close();
  }

  private async trial(t: Trial): Promise<void> {
    if (this.stopping) return;
    const trainer = new ChildTrainer(this.opts.stopGraceSeconds ?? 10);
    this.trainers.add(trainer);
    try {
      const outcome = await runSession({
        store: this.store,
        target: { kind: 'trial', sweep: this.ctx, trial: t, policy: this.policy },
        trainer: trainer.train,
        backend: this.opts.backend,
        signal: this.stopper.signal,
        heartbeatMs: 5000,
        ...(this.opts.preflight ? { preflight: this.opts.preflight } : {}),
        onStart: ({ run, resumeFrom }) =>
          this.state.updateTrial(t.index, { status: 'running', runId: run.id, startedAt: Date.now(), resumed: resumeFrom !== null, error: null, epoch: 0, step: 0, lastEpoch: null }, true),
        onEvent: (e) => this.view(t.index, e),
      });
      if (outcome.status === 'skipped') {
        this.state.updateTrial(t.index, { status: outcome.reason, runId: outcome.run.id }, true);
        return;
      }
      if (outcome.status === 'store-lost') {
        const line = describeStoreLost(outcome, this.policy.staleSeconds, 'exp sweep with the same arguments');
        this.state.updateTrial(t.index, { status: 'interrupted', error: line, finishedAt: Date.now() }, true);
        this.lostStore(line);
        return;
      }
      const error = outcome.status === 'done' ? null : outcome.status === 'failed' ? outcome.message : outcome.reason;
      const result = outcome.status === 'done' ? await this.store.finalAverage(outcome.run.id) : null;
      this.state.updateTrial(t.index, { status: outcome.status, error, finishedAt: Date.now(), result }, true);
    } catch (e) {
      if (isStoreUnreachable(e)) {
        // Nothing was taken: the trial is as it was in the store.
        this.lostStore(`${e.message}; trial ${t.name} was not started`);
        return;
      }
      // Refused before the run was taken (preflight) or the store failed while claiming.
      this.state.updateTrial(t.index, { status: 'failed', error: messageOf(e), finishedAt: Date.now() }, true);
    } finally {
      this.trainers.delete(trainer);
    }
  }

  private view(index: number, e: TrainEvent): void {
    switch (e.kind) {
      case 'start':
        this.state.updateTrial(index, { epochs: e.epochs, startEpoch: e.startEpoch, epoch: e.startEpoch, step: 0, stepsPerEpoch: e.stepsPerEpoch });
        break;
      case 'step':
        this.state.updateTrial(index, { epoch: e.epoch, step: e.step, stepsPerEpoch: e.stepsPerEpoch, loss: e.loss, clipsPerSec: e.clipsPerSec });
        break;
      case 'epoch':
        this.state.updateTrial(index, { epoch: e.epoch, epochs: e.epochs, loss: e.loss, clipsPerSec: e.clipsPerSec, lastEpoch: { epoch: e.epoch, loss: e.loss, clipsPerSec: e.clipsPerSec }, terms: e.terms }, true);
        break;
      default:
        break;
    }
  }
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
