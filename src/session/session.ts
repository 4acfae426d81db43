import type { ContainerModule } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import { checkSystem } from '../systems/build.js';
import { partsWith } from '../registry/container.js';
import { catalogFor } from '../parts/files.js';
import type { ClaimPolicy, TrialRef } from '../store/writes.js';
import type {
  EndStatus,
  FinishedReason,
  RunLease,
  RunStore,
  RunWriter,
  SweepClaimContext,
} from '../store/run-store.js';
import type { RunRecord } from '../store/types.js';
import type { EvalEvent, PausePoint, TrainEvent, Trainer } from '../train/events.js';
import { messageOf } from '../util/errors.js';
import { maskSecrets } from '../util/secrets.js';
import { isStoreUnreachable } from '../store/store-errors.js';
import { describeCode, isEnvironmentError, storageFault, unwritableBecause } from '../util/fs-errors.js';

/**
 * One run session, the only place a run's life is decided, for `exp run`, the local sweep engine
 * and cluster workers alike:
 *   preflight -> claim or create the run row -> train (the trainer builds the container, plug-ins
 *   included) -> record every event -> finish as done, or mark interrupted / failed.
 * Whatever goes wrong after the row exists (an exception, a signal, a store that cannot be
 * written), the session ends the row; only a process killed outright leaves it 'running', and
 * then its lease expires (src/store/stale.ts).
 */

/** Which run the session is about. */
export type SessionTarget =
  | { kind: 'new'; name: string; config: ExperimentConfig }
  | { kind: 'resume'; ref: string }
  | { kind: 'trial'; sweep: SweepClaimContext; trial: TrialRef; policy: ClaimPolicy };

export interface SessionOptions {
  store: RunStore;
  target: SessionTarget;
  /** Runs the training: src/train in this process, a child process (sweeps), or a test stand-in. */
  trainer: Trainer;
  backend: string;
  /** Aborting stops training at the next step: the trainer checkpoints, the run is marked interrupted. */
  signal?: AbortSignal;
  /** Plug-ins for the run's container (src/registry/plugins.ts). */
  extraModules?: readonly ContainerModule[];
  /**
   * Checks run before any run row is created or taken (a refused run leaves nothing behind).
   * Throw a UserError to refuse. Registry names (and the hashes of recorded plug-in files) are always checked first.
   */
  preflight?: (config: ExperimentConfig) => void | Promise<void>;
  /** Called once the run is taken, before training starts. */
  onStart?: (lease: RunLease) => void;
  /** Every training event, after it is stored. */
  onEvent?: (e: TrainEvent) => void;
  /** Lease renewal while the trainer is busy between events (default 10 s). */
  heartbeatMs?: number;
  /** Stop at this rung (adaptive sweeps); a trainer that returns without a final evaluation then ends the run paused, resumable. */
  pauseAt?: PausePoint;
}

export type SessionOutcome =
  | { status: 'skipped'; run: RunRecord; reason: FinishedReason }
  | { status: 'done'; run: RunRecord; final: EvalEvent | null; finishError: string | null }
  | { status: 'interrupted'; run: RunRecord; reason: string; finishError: string | null }
  /** Stopped at its rung (pauseAt) with a checkpoint; the sweep's scheduler decides whether it goes on. */
  | { status: 'paused'; run: RunRecord; reason: string; finishError: string | null }
  | { status: 'failed'; run: RunRecord; error: unknown; message: string; finishError: string | null }
  /**
   * The store's server stayed unreachable past its retry time: training stopped (a checkpoint is
   * written on the way out). `marked`: the row could still be set to interrupted; if not it stays
   * 'running' and shows as stale once its lease runs out. Either way exp run --resume continues it
   * from `checkpointEpoch`, the last checkpoint the store recorded in this session (null: none).
   */
  | { status: 'store-lost'; run: RunRecord; message: string; marked: boolean; checkpointEpoch: number | null };

type Taken = { kind: 'run'; lease: RunLease } | { kind: 'skip'; run: RunRecord; reason: FinishedReason };

/** The run's parts (built-ins, its recorded plug-in files, checked against their hashes, any modules) and its settings. */
async function check(o: SessionOptions, config: ExperimentConfig, run?: string): Promise<void> {
  checkSystem(config, partsWith(await catalogFor(config, run), o.extraModules ?? []));
  await o.preflight?.(config);
}

/** Preflight, then claim or create the row: nothing is written to the store before the checks pass. */
async function take(o: SessionOptions): Promise<Taken> {
  const { store, target } = o;
  switch (target.kind) {
    case 'new': {
      await check(o, target.config);
      const run = await store.createRun({ name: target.name, config: target.config });
      return { kind: 'run', lease: { run, resumeFrom: null } };
    }
    case 'resume': {
      const stored = await store.resolveRun(target.ref);
      await check(o, stored.config, stored.id);
      return { kind: 'run', lease: await store.resumeRun(stored.id) };
    }
    case 'trial': {
      await check(o, target.trial.config);
      const c = await store.claimTrial(target.sweep, target.trial, target.policy);
      return c.kind === 'skip' ? c : { kind: 'run', lease: { run: c.run, resumeFrom: c.resumeFrom } };
    }
  }
}

/** Why a signal stopped the run, as stored in the run's error column. */
function interruptReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  return typeof r === 'string' ? `interrupted (${r})` : 'interrupted';
}

export async function runSession(o: SessionOptions): Promise<SessionOutcome> {
  const taken = await take(o);
  if (taken.kind === 'skip') return { status: 'skipped', run: taken.run, reason: taken.reason };
  const { run, resumeFrom } = taken.lease;
  const writer = o.store.writer(run.id);
  try {
    o.onStart?.(taken.lease);
  } catch (e) {
    await end(writer, 'failed', messageOf(e));
    throw e;
  }
  const trained = await train(o, run, resumeFrom, writer);
  if (trained.status === 'store-lost') {
    const notMarked = await end(writer, 'interrupted', `interrupted: ${trained.message}`);
    return {
      status: 'store-lost',
      run,
      message: trained.message,
      marked: notMarked === null,
      checkpointEpoch: trained.checkpointEpoch,
    };
  }
  const finishError = await end(writer, trained.status, trained.status === 'done' ? null : trained.message);
  switch (trained.status) {
    case 'done':
      return { status: 'done', run, final: trained.final, finishError };
    case 'interrupted':
      return { status: 'interrupted', run, reason: trained.message, finishError };
    case 'paused':
      return { status: 'paused', run, reason: trained.message, finishError };
    case 'failed':
      return { status: 'failed', run, error: trained.error, message: trained.message, finishError };
  }
}

type Trained =
  | { status: 'done'; final: EvalEvent | null }
  | { status: 'interrupted'; message: string }
  | { status: 'paused'; message: string }
  | { status: 'failed'; error: unknown; message: string }
  | { status: 'store-lost'; message: string; checkpointEpoch: number | null };

/** Trains with every event stored in order; a store that cannot be written stops the training. */
async function train(
  o: SessionOptions,
  run: RunRecord,
  resumeFrom: string | null,
  writer: RunWriter,
): Promise<Trained> {
  const stop = new AbortController();
  const forward = () => stop.abort(o.signal?.reason);
  if (o.signal?.aborted) forward();
  else o.signal?.addEventListener('abort', forward, { once: true });
  let storeError: unknown = null;
  const storeFailed = (e: unknown) => {
    storeError ??= e;
    stop.abort('store');
  };
  const beat = setInterval(() => writer.heartbeat().catch(storeFailed), o.heartbeatMs ?? 10_000);
  beat.unref();
  const runDir = run.runDir ?? `runs/${run.id}`;
  let final: EvalEvent | null = null;
  let checkpointEpoch: number | null = null;
  try {
    await o.trainer({
      config: run.config,
      runDir,
      backend: o.backend,
      signal: stop.signal,
      ...(resumeFrom ? { resumeFrom } : {}),
      ...(o.extraModules ? { extraModules: o.extraModules } : {}),
      ...(o.pauseAt ? { pauseAt: o.pauseAt } : {}),
      onEvent: async (e: TrainEvent) => {
        try {
          await writer.record(e);
        } catch (err) {
          storeFailed(err);
          throw err;
        }
        if (e.kind === 'eval' && e.final) final = e;
        if (e.kind === 'checkpoint') checkpointEpoch = e.epoch;
        o.onEvent?.(e);
      },
    });
    if (o.pauseAt && final === null)
      return { status: 'paused', message: `paused at epoch ${o.pauseAt.epoch} (a rung of the sweep)` };
    return { status: 'done', final };
  } catch (e) {
    if (isStoreUnreachable(storeError)) return { status: 'store-lost', message: storeError.message, checkpointEpoch };
    if (storeError !== null)
      return {
        status: 'failed',
        error: storeError,
        message: `could not write to the store ${o.store.location}: ${messageOf(storeError)}`,
      };
    if (o.signal?.aborted) return { status: 'interrupted', message: interruptReason(o.signal) };
    // A trainer stopped by a signal sent to it alone (a child process given SIGTERM).
    if (e instanceof DOMException && e.name === 'AbortError')
      return { status: 'interrupted', message: `interrupted (${e.message})` };
    // The run directory's filesystem went read-only or full: not the trial's fault, and its last
    // checkpoint is still there, so the run stays resumable once the filesystem is back.
    const fault =
      storageFault(e) ?? (isEnvironmentError(e) || /^E[A-Z]+: /.test(messageOf(e)) ? unwritableBecause(runDir) : null);
    if (fault !== null)
      return {
        status: 'interrupted',
        message: `interrupted: the run directory ${runDir} cannot be written: ${describeCode(fault)}; the checkpoints it wrote are kept`,
      };
    return { status: 'failed', error: e, message: messageOf(e) };
  } finally {
    clearInterval(beat);
    o.signal?.removeEventListener('abort', forward);
  }
}

/**
 * Ends the row. A store that refuses (a full disk, a lost connection) gets a second try; if that
 * fails too the error is returned for the caller to report, and the row's lease runs out instead.
 */
async function end(writer: RunWriter, status: EndStatus, error: string | null): Promise<string | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      // The stored error is shown by exp show, reports and --json: no password in it.
      await writer.finish(status, error === null ? null : maskSecrets(error));
      return null;
    } catch (e) {
      if (attempt >= 1) return messageOf(e);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * One true line about a run stopped by a lost store: what stopped it, which state the store shows,
 * and how it continues (`resume`: the command that takes it over, e.g. exp run --resume ID).
 */
export function describeStoreLost(
  out: Extract<SessionOutcome, { status: 'store-lost' }>,
  staleSeconds: number,
  resume: string,
): string {
  const from = out.checkpointEpoch === null ? 'its last checkpoint' : `its checkpoint of epoch ${out.checkpointEpoch}`;
  const state = out.marked
    ? `it is marked interrupted; ${resume} continues it from ${from}`
    : `it could not be marked, so the store still shows it running; once the server is back it shows as stale ${staleSeconds} s after its last heartbeat, and ${resume} takes it over from ${from}`;
  return `run ${out.run.id} (${out.run.name}) stopped: ${out.message}; ${state}`;
}
