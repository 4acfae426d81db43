import { hostname } from 'node:os';
import type { Trial } from '../sweep/spec.js';
import { AdaptiveRunner, type TrainOutcome } from '../sweep/search/runner.js';
import { describeStoreLost, runSession } from '../session/session.js';
import type { SweepClaimContext } from '../store/run-store.js';
import type { PausePoint } from '../train/events.js';
import type { WorkerOptions, WorkerSummary } from './worker-types.js';

/**
 * `exp worker` on an adaptive sweep (search / prune): the same runner as `exp sweep` on the local
 * executor, with one training at a time in this process. Nothing is shared between workers but
 * the store: which configuration trains next, to which rung, is computed from the stored rung
 * table and the sweep's runs (their status and lease); a trial is claimed like any sweep trial
 * (one claimant wins, the others see it busy); a result and the decisions it leads to are one
 * transaction holding the sweep's row. A promoted configuration is resumed from its rung's
 * checkpoint by whichever worker claims it first.
 */
export async function runAdaptiveWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const { sweep, store } = o;
  const me = `${hostname()}:${process.pid}`;
  const ctx: SweepClaimContext = { sweep: sweep.name, profile: sweep.profile };
  const summary: WorkerSummary = { done: 0, failed: 0, storeLost: null, interrupted: null };
  const train = async (trial: Trial, pauseAt: PausePoint | undefined): Promise<TrainOutcome> => {
    const none = { runId: null, reached: false, failed: false };
    if (o.signal.aborted || summary.storeLost !== null) return none;
    const out = await runSession({
      store,
      target: { kind: 'trial', sweep: ctx, trial, policy: o.policy },
      trainer: o.trainer,
      backend: o.backend,
      signal: o.signal,
      heartbeatMs: o.heartbeatMs,
      ...(pauseAt ? { pauseAt } : {}),
      ...(o.preflight ? { preflight: o.preflight } : {}),
      onStart: ({ run, resumeFrom }) =>
        o.log(
          `worker ${me}: ${trial.name}: started run ${run.id}${resumeFrom ? ` (resuming from ${resumeFrom})` : ''}${pauseAt ? `, to epoch ${pauseAt.epoch}` : ''}`,
        ),
    });
    switch (out.status) {
      case 'skipped':
        return {
          runId: out.run.id,
          reached: out.reason === 'done',
          failed: out.reason === 'failed',
          busy: out.reason === 'busy',
        };
      case 'store-lost':
        summary.storeLost = describeStoreLost(
          out,
          o.policy.staleSeconds,
          'the next worker of this sweep (or exp sweep again)',
        );
        o.log(`worker ${me}: ${trial.name}: ${summary.storeLost}`);
        return none;
      case 'interrupted':
        summary.interrupted = trial.name;
        o.log(`worker ${me}: ${trial.name}: ${out.reason}; checkpointed, resumable`);
        return { runId: out.run.id, reached: false, failed: false };
      case 'paused':
        o.log(`worker ${me}: ${trial.name}: ${out.reason}`);
        return { runId: out.run.id, reached: true, failed: false };
      case 'failed':
        summary.failed++;
        o.log(`worker ${me}: ${trial.name}: FAILED: ${out.message.split('\n')[0]}`);
        return { runId: out.run.id, reached: false, failed: true };
      case 'done':
        summary.done++;
        o.log(`worker ${me}: ${trial.name}: done`);
        return { runId: out.run.id, reached: true, failed: false };
    }
  };
  let replayed = false;
  const runner = new AdaptiveRunner({
    sweep,
    plan: sweep.search!,
    store,
    concurrency: 1,
    leaseSeconds: o.policy.staleSeconds,
    ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
    stopping: () => o.signal.aborted || summary.storeLost !== null,
    train: async (t, pauseAt) => {
      try {
        return await train(t, pauseAt);
      } catch (e) {
        // Refused before its row was taken (preflight): this configuration fails here; the sweep goes on.
        summary.failed++;
        o.log(`worker ${me}: ${t.name}: FAILED: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
        return { runId: null, reached: false, failed: true };
      }
    },
    hooks: {
      onUnits: () => undefined,
      onDecisions: (ds) => {
        // The first call replays what was stored before this worker started: not logged again.
        if (!replayed) {
          replayed = true;
          return;
        }
        for (const d of ds)
          o.log(
            `worker ${me}: ${d.unitName}: ${d.action === 'stop' ? 'pruned' : d.action === 'pause' ? 'paused' : 'promoted'} at epoch ${d.rung}: ${d.reason}`,
          );
      },
    },
  });
  await runner.run();
  if (summary.interrupted === null && summary.storeLost === null)
    o.log(
      `worker ${me}: nothing of ${sweep.name} left to train${runner.finished() ? ' (the sweep is finished)' : ''}; ${summary.done} trained to the end here`,
    );
  return summary;
}
