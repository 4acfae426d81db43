import type { Command } from 'commander';
import { action } from '../action.js';
import {
  artifactsOption,
  backendOption,
  gpuAdapterOption,
  dbOption,
  leaseOption,
  maxTrialsOption,
  profileOption,
  seedsOption,
  setOption,
} from '../options.js';
import { pluginOption } from '../plugin-option.js';
import { withPartsHelp } from '../parts-help.js';
import { computeAction } from '../lazy.js';

/** `exp worker`: its flags; what it does is in worker-action.ts, imported when it runs. */
export function register(program: Command): void {
  const cmd = program
    .command('worker')
    .description(
      "claim and run a sweep's unfinished trials one after another until none is left (what each Slurm task of exp sweep --executor slurm runs)",
    )
    .requiredOption('--sweep <sweep>', 'the sweep YAML (or name), as given to exp sweep')
    .addOption(
      dbOption(
        'shared by every worker: a postgres:// URL (workers on many hosts), or a SQLite file (workers on this host only)',
      ),
    )
    .addOption(artifactsOption('directory every node can read, for run directories (checkpoints)'))
    .addOption(profileOption('the sweep profile, as given to exp sweep'))
    .addOption(seedsOption('the seeds, as given to exp sweep'))
    .addOption(setOption('the overrides, as given to exp sweep'))
    .addOption(maxTrialsOption('the trial limit, as given to exp sweep'))
    .addOption(backendOption())
    .addOption(gpuAdapterOption())
    .addOption(leaseOption('a trial whose worker shows no sign of life for this long is taken over and resumed'))
    .option(
      '--requeue',
      'on SIGUSR1 (sbatch --signal, before the time limit): checkpoint, mark interrupted, requeue this Slurm task',
      false,
    )
    .addHelpText(
      'after',
      `
SIGTERM (scancel, a time limit) or Ctrl-C: the running trial checkpoints, is marked interrupted
and the worker exits (143 / 130); the next worker to claim it resumes it from that checkpoint.
A worker killed outright leaves its trial running until its lease runs out (--lease), then any
worker takes it over.
Plug-ins (--plugin, plugins: in the YAMLs) must be the same files the sweep was registered
with: a trial whose recorded plug-in hash differs from this host's file is refused.`,
    );
  cmd.addOption(pluginOption());
  withPartsHelp(cmd).action(action(computeAction(async () => (await import('./worker-action.js')).workerCommand)));
}
