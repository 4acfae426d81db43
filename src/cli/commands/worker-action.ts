import { spawnSync } from 'node:child_process';
import type { SweepSelection } from '../options.js';
import { parseOverride } from '../../config/load.js';
import { checkRunDirRoot } from '../run-dirs.js';
import { loadSweepWithPlugins, type ExpandedSweep } from '../../sweep/spec.js';
import { UserError } from '../../util/errors.js';
import type { RunStore } from '../../store/run-store.js';
import { runWorker } from '../../executor/worker.js';
import { stopReasonAtSignal } from '../../executor/slurm-states.js';
import { openRunStore } from '../../store/open.js';
import { interruptOnSignals } from '../../session/signals.js';
import { loadTrainer } from '../../session/trainer.js';
import { withPause } from '../../train/pause.js';
import { applyGpuAdapterFlag, parseBackendName } from '../../backend/select.js';
import { preflight } from '../../preflight/preflight.js';
import { preflightOptions } from '../preflight-options.js';

/** `exp worker`'s flags as commander gives them; worker.ts declares them and imports this module when the command runs. */
export interface WorkerCliOptions extends SweepSelection {
  sweep: string;
  lease: number;
  requeue: boolean;
  gpuAdapter?: string;
}

export async function workerCommand(opts: WorkerCliOptions): Promise<void> {
  const backend = parseBackendName(opts.backend);
  applyGpuAdapterFlag(opts.gpuAdapter);
  const overrides = opts.set.map((s) => parseOverride(s));
  const sweep = await loadSweepWithPlugins(opts.sweep, {
    profile: opts.profile ?? null,
    overrides,
    plugins: opts.plugin ?? [],
    ...(opts.seeds ? { seeds: opts.seeds } : {}),
    ...(opts.maxTrials ? { maxTrials: opts.maxTrials } : {}),
  });
  checkRunDirRoot(opts.db, opts.artifacts);
  const signals = interruptOnSignals();
  // Inside a Slurm job, SIGTERM's cause (time limit, cancel, a node going down) is stored with the run.
  const stopped = new AbortController();
  signals.signal.addEventListener(
    'abort',
    () => {
      const why = signals.signal.reason === 'SIGTERM' ? stopReasonAtSignal() : null;
      stopped.abort(why ? `SIGTERM; Slurm: ${why}` : signals.signal.reason);
    },
    { once: true },
  );
  // Task logs live on the shared filesystem; if it goes read-only a log line is lost, not the worker.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  // SIGUSR1 = the batch system's warning before a time limit (sbatch --signal=B:USR1@T).
  const warned = new AbortController();
  const onUsr1 = () => warned.abort('SIGUSR1: time limit near');
  process.on('SIGUSR1', onUsr1);
  const store = await openRunStore(opts.db, { artifacts: opts.artifacts ?? null, staleSeconds: opts.lease });
  let summary;
  try {
    await refuseOtherCode(store, sweep);
    summary = await runWorker({
      sweep,
      store,
      // Adaptive sweeps stop a trial at its rung (pauseAt); the trainer runs in this process.
      trainer: withPause(await loadTrainer()),
      backend,
      policy: { rerunFailed: false, force: false, staleSeconds: opts.lease, forceBefore: 0 },
      signal: AbortSignal.any([stopped.signal, warned.signal]),
      heartbeatMs: Math.min(10_000, (opts.lease * 1000) / 3),
      preflight: async (config) => {
        await preflight(config, preflightOptions(opts.db, false));
      },
      log: (line) => {
        try {
          process.stderr.write(`${new Date().toISOString()} ${line}\n`);
        } catch {
          // The task's log is on a filesystem that refuses writes; the store keeps the record.
        }
      },
    });
  } finally {
    await store.close();
    process.off('SIGUSR1', onUsr1);
  }
  if (warned.signal.aborted && opts.requeue) requeueSelf();
  const code = signals.exitCode();
  if (code !== null) process.exit(code);
  if (summary.storeLost !== null) throw new UserError(`worker stopped: ${summary.storeLost}`);
  if (summary.failed > 0) process.exitCode = 1;
}

/**
 * A worker whose trials differ from the ones the sweep registered (a plug-in file changed, or a
 * different sweep YAML) would add trials of its own to the sweep; it refuses instead, before
 * claiming anything, and names the plug-in whose hash differs when that is the cause.
 */
async function refuseOtherCode(store: RunStore, sweep: ExpandedSweep): Promise<void> {
  const recorded = await store.recordedSweep(sweep.name);
  if (!recorded) return;
  const ours = new Map(sweep.trials.map((t) => [t.name, t]));
  const differs = recorded.trials.find((t) => ours.has(t.name) && ours.get(t.name)!.hash !== t.hash);
  if (!differs) return;
  const mine = ours.get(differs.name)!;
  const theirs = (await store.listRuns({ sweep: sweep.name })).find((r) => r.configHash === differs.hash);
  const theirPlugins = theirs?.config.plugins ?? [];
  const byName = (path: string) => path.split(/[\\/]/).pop()!;
  for (const p of mine.config.plugins ?? []) {
    const other = theirPlugins.find((q) => byName(q.path) === byName(p.path));
    if (other && other.sha256 !== p.sha256) {
      throw new UserError(
        `plug-in ${p.path}: sha256 ${p.sha256.slice(0, 12)} on this host, but sweep ${sweep.name} was registered with ${other.path} at sha256 ${other.sha256.slice(0, 12)}; use the same file on every host`,
      );
    }
  }
  if ((mine.config.plugins?.length ?? 0) !== theirPlugins.length) {
    throw new UserError(
      `sweep ${sweep.name}: trial ${differs.name} was registered with ${theirPlugins.length} plug-in file(s), this worker loads ${mine.config.plugins?.length ?? 0}; give the same --plugin files as exp sweep`,
    );
  }
  throw new UserError(
    `sweep ${sweep.name}: trial ${differs.name} has config hash ${mine.hash} here but ${differs.hash} in the store; give this worker the same sweep YAML, --set, --profile, --seeds and plug-ins as exp sweep`,
  );
}

/** Puts this Slurm task back in the queue; its next start claims the interrupted trial again. */
function requeueSelf(): void {
  const job = process.env.SLURM_ARRAY_JOB_ID
    ? `${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}`
    : process.env.SLURM_JOB_ID;
  if (!job) {
    process.stderr.write('exp worker: --requeue outside a Slurm job: nothing to requeue\n');
    return;
  }
  const r = spawnSync('scontrol', ['requeue', job], { encoding: 'utf8' });
  process.stderr.write(
    r.status === 0
      ? `exp worker: requeued Slurm task ${job}\n`
      : `exp worker: scontrol requeue ${job} failed: ${(r.stderr || r.error?.message || '').trim()}\n`,
  );
}
