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
import { DEFAULT_MAX_TRIALS } from '../../sweep/limits.js';
import { pluginOption } from '../plugin-option.js';
import { withPartsHelp } from '../parts-help.js';
import { computeAction } from '../lazy.js';
import { registerClusterSubcommands } from './sweep-subcommands.js';
import { EXECUTORS, type ExecutorName } from '../../executor/names.js';

/** `exp sweep`: its flags; what it does is in sweep-action.ts, imported when it runs. */
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
  cmd.addOption(pluginOption());
  withPartsHelp(cmd).action(action(computeAction(async () => (await import('./sweep-action.js')).sweepCommand)));
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
