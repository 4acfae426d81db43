import { hostname } from 'node:os';
import type { ExperimentConfig } from '../config/schema.js';
import { sweepRecord, type ExpandedSweep, type Trial } from '../sweep/spec.js';
import { describeStoreLost, runSession, type SessionOutcome } from '../session/session.js';
import type { ClaimPolicy } from '../store/writes.js';
import type { RunStore, SweepClaimContext } from '../store/run-store.js';
import type { Trainer } from '../train/events.js';
import { formatDuration, pct } from '../util/format.js';
import { runAdaptiveWorker } from './adaptive-worker.js';
import type { WorkerOptions, WorkerSummary } from './worker-types.js';

/**
 * `exp worker`: one process of a sweep spread over a batch system (or started by hand on any
 * host sharing the store). It claims the first unfinished trial of the sweep, in the sweep's
 * order, by config hash (the store's claim: a row lock with SKIP LOCKED on PostgreSQL, a lease
 * with a heartbeat), runs it through the run session, and starts over from the top, until no
 * trial is left to claim. Starting over each time means a trial whose worker died (its lease
 * expired) or was stopped (interrupted) is picked up again, from its last checkpoint.
 */
export type { WorkerOptions, WorkerSummary } from './worker-types.js';

export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const { sweep, store } = o;
  // Idempotent: the orchestrator registered it already; a worker started by hand registers it itself.
  await store.registerSweep(sweepRecord(sweep));
  if (sweep.search) return runAdaptiveWorker(o);
  const ctx: SweepClaimContext = { sweep: sweep.name, profile: sweep.profile };
  const me = `${hostname()}:${process.pid}`;
  const summary: WorkerSummary = { done: 0, failed: 0, storeLost: null, interrupted: null };
  for (;;) {
    const outcome = await claimNext(o, ctx);
    if (outcome === null) break;
    const { trial, out, seconds } = outcome;
    if (out.status === 'done') {
      summary.done++;
      const avg = out.final?.average;
      o.log(
        `worker ${me}: ${trial.name}: done in ${formatDuration(seconds)}${avg ? `: AUC ${pct(avg.auc)} pAUC ${pct(avg.pauc)}` : ''}`,
      );
    } else if (out.status === 'failed') {
      summary.failed++;
      o.log(`worker ${me}: ${trial.name}: FAILED: ${out.message.split('\n')[0]}`);
    } else if (out.status === 'store-lost') {
      summary.storeLost = describeStoreLost(
        out,
        o.policy.staleSeconds,
        'the next worker of this sweep (or exp sweep again)',
      );
      o.log(`worker ${me}: ${trial.name}: ${summary.storeLost}`);
      break;
    } else if (out.status === 'interrupted') {
      summary.interrupted = trial.name;
      o.log(`worker ${me}: ${trial.name}: ${out.reason}; checkpointed, resumable`);
      break;
    }
    if ((out.status === 'done' || out.status === 'failed') && out.finishError)
      o.log(`worker ${me}: ${trial.name}: could not end the run row (${out.finishError}); its lease will expire`);
  }
  if (summary.interrupted === null && summary.storeLost === null)
    o.log(`worker ${me}: no trial of ${sweep.name} left to claim; ${summary.done} done here`);
  return summary;
}

/** Runs the first trial this worker can claim, or returns null when there is none. */
async function claimNext(
  o: WorkerOptions,
  ctx: SweepClaimContext,
): Promise<{ trial: Trial; out: SessionOutcome; seconds: number } | null> {
  for (const trial of o.sweep.trials) {
    if (o.signal.aborted) return null;
    // A cheap look first; the claim itself decides (another worker may take it in between).
    if ((await o.store.peekTrial(ctx, trial, o.policy)) !== 'run') continue;
    const t0 = Date.now();
    const out = await runSession({
      store: o.store,
      target: { kind: 'trial', sweep: ctx, trial, policy: o.policy },
      trainer: o.trainer,
      backend: o.backend,
      signal: o.signal,
      heartbeatMs: o.heartbeatMs,
      ...(o.preflight ? { preflight: o.preflight } : {}),
      onStart: ({ run, resumeFrom }) =>
        o.log(
          `worker ${hostname()}:${process.pid}: ${trial.name}: started run ${run.id}${resumeFrom ? ` (resuming from ${resumeFrom})` : ''}`,
        ),
    });
    if (out.status === 'skipped') continue;
    return { trial, out, seconds: (Date.now() - t0) / 1000 };
  }
  return null;
}
