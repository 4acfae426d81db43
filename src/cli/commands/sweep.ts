import { InvalidArgumentError, type Command } from 'commander';
import { action, collect, parsePositiveInt } from '../action.js';
import {
  artifactsOption,
  backendOption,
  gpuAdapterOption,
  dbOption,
  leaseOption,
  maxTrialsOption,
  noDashboardOption,
  profileOption,
  seedsOption,
  setOption,
  threadsOption,
} from '../options.js';
import { parseOverride } from '../../config/load.js';
import { DEFAULT_MAX_TRIALS, loadSweepWithPlugins } from '../../sweep/spec.js';
import { pluginOption } from '../plugin-option.js';
import { partsHelp } from '../parts-help.js';
import { SweepEngine } from '../../sweep/engine.js';
import { openRunStore } from '../../store/open.js';
import { preflight } from '../../preflight/preflight.js';
import { preflightOptions } from '../preflight-options.js';
import { isUserError, UserError } from '../../util/errors.js';
import { attachSweep, registerClusterSubcommands, slurmExecutor, type ClusterSweepOptions } from './sweep-cluster.js';
import { localExecutor, type LocalSweepOptions } from './sweep-local.js';
import type { SweepExecutor } from '../../executor/executor.js';
import { EXECUTORS, type ExecutorName } from '../../executor/options.js';
import { applyGpuAdapterFlag, applyThreadsFlag, parseBackendName } from '../../backend/select.js';
import { checkRunDirRoot } from '../run-dirs.js';
import { resolve } from 'node:path';

interface SweepOptions extends ClusterSweepOptions, LocalSweepOptions {
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

export function register(program: Command): void {
  const cmd = program
    .command('sweep')
    .description('run every trial of a sweep YAML (sweeps/NAME.yaml), resuming where it stopped')
    .argument('<sweep>', 'a sweep YAML file, or a name found as sweeps/<name>.yaml')
    .addOption(setOption('override an experiment key in every trial (applied last)'))
    .addOption(profileOption())
    .addOption(seedsOption())
    .option(
      '--concurrency <n|auto>',
      'trials trained at once, each in its own process; auto: as many as the cores and memory allow at one thread or more each on wasm / cpu, one on a GPU (slurm: the array throttle, auto = 1)',
      parseConcurrency,
      'auto',
    )
    .addOption(
      threadsOption('default $EXP_THREADS, else the cores shared out between the trials run at once, at most 2'),
    )
    .addOption(dbOption())
    .addOption(artifactsOption())
    .addOption(backendOption())
    .addOption(gpuAdapterOption())
    .addOption(noDashboardOption())
    .option('--rerun-failed', 're-run failed trials from scratch (they are skipped otherwise)', false)
    .option(
      '--force',
      're-run every trial from scratch, finished ones included (their old results are replaced)',
      false,
    )
    .option('--dry-run', 'validate the sweep and print what would run, without training', false)
    .addOption(
      maxTrialsOption(
        `refuse a sweep that expands to more trials than this (default: maxTrials in the sweep file, else ${DEFAULT_MAX_TRIALS})`,
      ),
    )
    .option(
      '--executor <name>',
      'local (trials as child processes here) | slurm (one job array of exp worker tasks; needs a postgres:// --db)',
      parseExecutor,
      'local',
    )
    .option('--detach', 'slurm: submit and return; follow later with --attach', false)
    .option('--attach', 'follow a sweep submitted earlier (dashboard from the store), until it ends or Ctrl-C', false)
    .option(
      '--requeue',
      'slurm: requeue on node failure, and near the time limit checkpoint and requeue the task (sbatch --requeue --signal=B:USR1@120)',
      false,
    )
    .addOption(
      leaseOption(
        'slurm: a trial whose worker shows no sign of life this long is resumed by another (default 300)',
        false,
      ),
    )
    .option(
      '--resubmit <n>',
      'slurm: when the job ends with trials left (tasks killed outright), submit again up to n times (default 2)',
      parseCount,
    )
    .option('--partition <name>', 'slurm: sbatch --partition (overrides executor.slurm.partition of the sweep YAML)')
    .option('--time <limit>', 'slurm: sbatch --time per task, e.g. 4:00:00')
    .option('--gres <spec>', 'slurm: sbatch --gres, e.g. gpu:1')
    .option('--cpus-per-task <n>', 'slurm: sbatch --cpus-per-task', parsePositiveInt('--cpus-per-task'))
    .option('--mem <size>', 'slurm: sbatch --mem, e.g. 16G')
    .option('--sbatch <arg>', 'slurm: one more sbatch argument, e.g. --sbatch=--account=lab (repeatable)', collect, [])
    .addHelpText(
      'after',
      `
Identity is the canonical hash of each trial's validated config. Running the same command again
never repeats a finished trial: missing and interrupted trials run (interrupted ones resume from
their last checkpoint); failed ones only with --rerun-failed; everything with --force.
Ctrl-C / SIGTERM stop cleanly: running trials checkpoint, are marked interrupted and resume next
time (exit 130 / 143); a second Ctrl-C kills them at once.`,
    );
  cmd.addOption(pluginOption()).addHelpText('after', partsHelp).action(action(sweepCommand));
  registerClusterSubcommands(cmd);
}

function parseExecutor(value: string): ExecutorName {
  if (!(EXECUTORS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`--executor expects one of ${EXECUTORS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as ExecutorName;
}

const parseConcurrencyNumber = parsePositiveInt('--concurrency', 'a positive whole number or auto');

function parseConcurrency(value: string): number | 'auto' {
  return value === 'auto' ? value : parseConcurrencyNumber(value);
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value))
    throw new InvalidArgumentError(`--resubmit expects a whole number >= 0, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function sweepCommand(ref: string, opts: SweepOptions): Promise<void> {
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
