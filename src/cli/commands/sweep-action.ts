import { resolve } from 'node:path';
import { parseOverride } from '../../config/load.js';
import { loadSweepWithPlugins } from '../../sweep/spec.js';
import { openRunStore } from '../../store/open.js';
import { preflight } from '../../preflight/preflight.js';
import { preflightOptions } from '../preflight-options.js';
import { isUserError, UserError } from '../../util/errors.js';
import { attachSweep, slurmExecutor, type ClusterSweepOptions } from './sweep-cluster.js';
import { localExecutor, type LocalSweepOptions } from './sweep-local.js';
import type { SweepExecutor } from '../../executor/executor.js';
import type { ExecutorName } from '../../executor/names.js';
import { applyGpuAdapterFlag, applyThreadsFlag, parseBackendName } from '../../backend/select.js';
import { checkRunDirRoot } from '../run-dirs.js';

/** `exp sweep`'s flags as commander gives them; sweep.ts declares them and imports this module when the command runs. */
export interface SweepOptions extends ClusterSweepOptions, LocalSweepOptions {
  set: string[];
  profile?: string;
  concurrency: number | 'auto';
  threads?: number;
  db: string;
  artifacts?: string;
  backend: string;
  gpuAdapter?: string;
  dashboard: boolean;
  rerunFailed: boolean;
  force: boolean;
  seeds?: number[];
  dryRun: boolean;
  executor: ExecutorName;
  attach: boolean;
  plugin: string[];
}

/** The executors --executor names. */
const executors: { readonly [K in ExecutorName]: SweepExecutor<SweepOptions> } = {
  local: localExecutor,
  slurm: slurmExecutor,
};

export async function sweepCommand(ref: string, opts: SweepOptions): Promise<void> {
  if (opts.attach) return attachSweep(ref, opts);
  parseBackendName(opts.backend);
  applyGpuAdapterFlag(opts.gpuAdapter);
  // Trial processes inherit EXP_THREADS (local executor; Slurm tasks get --cpus-per-task). Without
  // it, a local sweep shares the cores out between the trials it runs at once (sweep-local.ts).
  applyThreadsFlag(opts.threads);
  const executor = executors[opts.executor];
  executor.check(opts);
  const overrides = opts.set.map((s) => parseOverride(s));
  // Everything is validated here, before any trial starts.
  const sweep = await loadSweepWithPlugins(ref, {
    profile: opts.profile ?? null,
    overrides,
    plugins: opts.plugin,
    ...(opts.seeds ? { seeds: opts.seeds } : {}),
    ...(opts.maxTrials ? { maxTrials: opts.maxTrials } : {}),
  });
  if (sweep.search && (opts.rerunFailed || opts.force)) {
    // Their stored rung results would outlive the runs started over; not handled yet.
    throw new UserError(
      `sweep ${sweep.name}: --rerun-failed and --force are not supported for search / prune sweeps yet (give the sweep a new name to start over)`,
    );
  }
  // Where checkpoints go, before any trial row is registered (the slurm executor's default is runs/).
  if (!opts.dryRun)
    checkRunDirRoot(opts.db, opts.executor === 'slurm' ? resolve(opts.artifacts ?? 'runs') : opts.artifacts);
  if (opts.dryRun) {
    const store = await openRunStore(opts.db);
    try {
      for (const t of sweep.trials) {
        const run = await store.findTrialRun(sweep.name, t.hash);
        process.stdout.write(`${t.name.padEnd(24)} ${t.hash}  ${run ? `${run.status} (${run.id})` : 'new'}\n`);
      }
    } finally {
      await store.close();
    }
    return;
  }
  // Every trial's config and data are checked before the first trial starts, so a bad value in
  // the last trial does not surface after hours of the others; the audio check is
  // cached, so the per-trial preflight in the engine costs little.
  const check = preflightOptions(opts.db, true);
  // An adaptive sweep samples its trials as it goes: its first configuration stands for them here.
  for (const t of sweep.trials.length > 0 ? sweep.trials : (sweep.search?.sample ?? [])) {
    try {
      await preflight(t.config, check);
    } catch (e) {
      if (isUserError(e)) throw new UserError(`sweep ${sweep.name}, trial ${t.name}: ${e.message}`);
      throw e;
    }
  }
  return executor.run(sweep, opts);
}
