import type { Command } from 'commander';
import { action } from '../action.js';
import { dbOption } from '../options.js';
import { computeAction } from '../lazy.js';

/**
 * `exp sweep status X` and `exp sweep cancel X`: their flags; what they do is in sweep-cluster.ts,
 * imported when one runs.
 */
export function registerClusterSubcommands(sweepCmd: Command): void {
  sweepCmd
    .command('status')
    .description("print a sweep's trials and its Slurm jobs as the store shows them (any host)")
    .argument('<sweep>', 'the sweep YAML or its name')
    .addOption(dbOption())
    .action(action(computeAction(async () => (await import('./sweep-cluster.js')).sweepStatus)));
  sweepCmd
    .command('cancel')
    .description("scancel a sweep's Slurm jobs: running trials checkpoint and are marked interrupted (resumable)")
    .argument('<sweep>', 'the sweep YAML or its name')
    .addOption(dbOption())
    .action(action(computeAction(async () => (await import('./sweep-cluster.js')).cancelSweep)));
}
