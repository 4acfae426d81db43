import { SweepStateStore, initialTrialView, type TrialView } from '../sweep/state.js';
import { shownStatus } from '../store/stale.js';
import type { RunStore } from '../store/run-store.js';
import type { RecordedSweep, TrialProgress } from '../store/sweep-jobs.js';
import { adaptiveInfo, adaptiveViews } from '../sweep/search/summary.js';

/**
 * Follows a sweep whose trials run elsewhere (Slurm tasks, workers on other hosts) from the store
 * alone, and publishes the same SweepState a local sweep publishes, so the Ink dashboard and the
 * plain progress lines show it unchanged.
 */

export function followState(sweep: RecordedSweep, concurrency: number, dbFile: string): SweepStateStore {
  return new SweepStateStore({
    sweep: sweep.name,
    profile: sweep.profile,
    concurrency,
    startedAt: Date.now(),
    message: null,
    finished: false,
    dbFile,
    trials: sweep.trials.map((t, i) => initialTrialView(i, t.name, t.paper)),
  });
}

/** A trial's view from its stored run: a 'running' row whose lease ran out shows as stale (see shownStatus). */
export function viewOf(prev: TrialView, p: TrialProgress | undefined, leaseSeconds: number): TrialView {
  if (!p) return prev;
  const status = shownStatus(p, leaseSeconds);
  const last = p.lastEpoch;
  const inThisRun = last !== null && last.epoch >= p.startEpoch;
  const same =
    prev.lastEpoch !== null &&
    last !== null &&
    prev.lastEpoch.epoch === last.epoch &&
    prev.lastEpoch.loss === last.loss;
  return {
    ...prev,
    status,
    runId: p.runId,
    epochs: p.epochs,
    startEpoch: p.startEpoch,
    stepsPerEpoch: Math.max(1, p.stepsPerEpoch),
    // Steps are not stored: a finished epoch counts whole, the one in progress not yet.
    epoch: inThisRun ? last.epoch : p.startEpoch,
    step: inThisRun ? Math.max(1, p.stepsPerEpoch) : 0,
    loss: last?.loss ?? null,
    clipsPerSec: last?.clipsPerSec ?? null,
    // Kept by reference when unchanged: the plain progress prints an epoch line when it changes.
    lastEpoch: same
      ? prev.lastEpoch
      : last
        ? { epoch: last.epoch, loss: last.loss, clipsPerSec: last.clipsPerSec }
        : null,
    terms: same ? prev.terms : (last?.terms ?? null),
    startedAt: p.startedAt ? Date.parse(p.startedAt) : null,
    finishedAt: p.finishedAt ? Date.parse(p.finishedAt) : null,
    result: p.result,
    error: p.error,
    resumed: p.startEpoch > 1,
    heartbeatAt: p.heartbeatAt,
  };
}

const signature = (t: TrialView): string =>
  JSON.stringify([t.status, t.runId, t.epoch, t.step, t.epochs, t.result, t.error, t.startedAt, t.finishedAt]);

/** Reads the sweep's runs once and updates the state; returns the trials not yet done or failed. */
export async function poll(
  store: RunStore,
  sweep: RecordedSweep,
  state: SweepStateStore,
  leaseSeconds: number,
): Promise<TrialView[]> {
  const info = adaptiveInfo(sweep.spec);
  if (info) return pollAdaptive(store, sweep, state, leaseSeconds, info);
  const byHash = new Map((await store.sweepProgress(sweep.name)).map((p) => [p.configHash, p]));
  let changed = false;
  const trials = state.get().trials.map((prev, i) => {
    const next = viewOf(prev, byHash.get(sweep.trials[i]!.hash), leaseSeconds);
    if (signature(next) === signature(prev) && next.lastEpoch === prev.lastEpoch) return prev;
    changed = true;
    return next;
  });
  if (changed) state.update((s) => ({ ...s, trials }), true);
  return trials.filter((t) => t.status !== 'done' && t.status !== 'failed');
}

/**
 * An adaptive sweep's trials are sampled as it runs, so they come from its runs, not from the
 * registered list; paused / promoted / pruned come from the stored decisions. The unfinished
 * ones are the running and promoted trials (paused ones wait for a decision, pruned ones are over).
 */
async function pollAdaptive(
  store: RunStore,
  sweep: RecordedSweep,
  state: SweepStateStore,
  leaseSeconds: number,
  info: NonNullable<ReturnType<typeof adaptiveInfo>>,
): Promise<TrialView[]> {
  const progress = (await store.sweepProgress(sweep.name))
    .filter((p) => p.trial !== null)
    .sort((a, b) => (a.trial! < b.trial! ? -1 : a.trial! > b.trial! ? 1 : 0));
  const prev = new Map(state.get().trials.map((t) => [t.name, t]));
  const views = progress
    .map((p, i) => viewOf(prev.get(p.trial!) ?? initialTrialView(i, p.trial!, null), p, leaseSeconds))
    .map((t, i) => ({ ...t, index: i }));
  const { trials, summary } = adaptiveViews(info, views, await store.rungTable(sweep.name));
  state.update((s) => ({ ...s, trials, rungs: summary }), true);
  return trials.filter((t) => t.status !== 'done' && t.status !== 'failed' && t.status !== 'pruned');
}

export interface FollowOptions {
  store: RunStore;
  sweep: RecordedSweep;
  state: SweepStateStore;
  leaseSeconds: number;
  pollMs: number;
  /** Ctrl-C: stop following (the jobs go on). */
  signal: AbortSignal;
  /** Whether any job of the sweep is still queued or running. */
  jobActive: () => Promise<boolean>;
  /** Whether the sweep's job was cancelled (exp sweep cancel): then nothing is resubmitted. */
  cancelled: () => Promise<boolean>;
  /** The jobs ended with trials left (workers killed outright, tasks cancelled one by one): submit again, or false to give up. */
  resubmit: (unfinished: TrialView[]) => Promise<boolean>;
  /**
   * Adaptive sweeps: whether every configuration there will be is finished, pruned or failed (their
   * trials are sampled as the sweep goes, so no unfinished run does not mean the sweep is over).
   */
  complete?: () => Promise<boolean>;
}

export type FollowEnd = 'finished' | 'detached' | 'cancelled' | 'gave-up';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((done) => {
    const wake = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', wake);
      done();
    };
    const t = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });

/** Polls until every trial is done or failed, the follower is stopped, or the jobs end with work left. */
export async function follow(o: FollowOptions): Promise<FollowEnd> {
  for (;;) {
    if (o.signal.aborted) return 'detached';
    // The job's state first, then the runs: a worker writes its last row before its task ends.
    const active = await o.jobActive();
    const unfinished = await poll(o.store, o.sweep, o.state, o.leaseSeconds);
    if (unfinished.length === 0 && (!o.complete || (await o.complete()))) return 'finished';
    // Trials held by a live lease of another orchestrator's workers finish on their own.
    const orphaned = unfinished.filter((t) => t.status !== 'running');
    if (!active && (orphaned.length > 0 || o.complete)) {
      if (await o.cancelled()) return 'cancelled';
      if (!(await o.resubmit(unfinished))) return 'gave-up';
    }
    await sleep(o.pollMs, o.signal);
  }
}
