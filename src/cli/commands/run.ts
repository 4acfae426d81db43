import type { Command } from 'commander';
import { action } from '../action.js';
import {
  artifactsOption,
  backendOption,
  gpuAdapterOption,
  threadsOption,
  dbOption,
  jsonOption,
  noDashboardOption,
  setOption,
} from '../options.js';
import { pluginOption } from '../plugin-option.js';
import { withPartsHelp } from '../parts-help.js';
import { computeAction } from '../lazy.js';

/** `exp run`: its flags; what it does is in run-action.ts, imported when it runs. */
export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('train and evaluate one experiment; every run is kept in the run store')
    .argument('[experiment]', 'experiment YAML (see experiments/)')
    .addOption(setOption())
    .option('--name <name>', 'run name (default: the experiment name)')
    .addOption(dbOption())
    .addOption(
      artifactsOption(
        'directory for run directories (checkpoints), recorded with the run (default: beside a SQLite store, else runs/)',
      ),
    )
    .addOption(backendOption())
    .addOption(gpuAdapterOption())
    .addOption(threadsOption())
    .option(
      '--resume <run>',
      'continue an interrupted, failed or stale run from its last checkpoint (one still leased to a live process is refused)',
    )
    .addOption(noDashboardOption('plain line progress (the default for a single run)'))
    .option('--quiet', 'print nothing but errors and the final table')
    .addOption(jsonOption('one JSON document with the run id and final metrics'))
    .addOption(pluginOption());
  withPartsHelp(cmd).action(action(computeAction(async () => (await import('./run-action.js')).runCommand)));
}
