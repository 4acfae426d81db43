import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { action, parsePositiveInt } from '../action.js';
import { backendOption, gpuAdapterOption, jsonOption } from '../options.js';
import { pluginOption } from '../plugin-option.js';
import { withPartsHelp } from '../parts-help.js';
import { computeAction } from '../lazy.js';
import type { BenchFlags } from './bench-action.js';

const DEFAULT_EXPERIMENT = 'experiments/fgaspecnet.yaml';

/** `exp bench`: its flags; what it does is in bench-action.ts, imported when it runs. */
export function register(program: Command): void {
  const cmd = program
    .command('bench')
    .description(
      "time training steps (forward + backward + AdamW, mixup included) and inference of an experiment's model on random clips",
    )
    .argument(
      '[experiment.yaml]',
      `the experiment whose model is timed (default ${DEFAULT_EXPERIMENT}, else the built-in full FGASpecNet)`,
    )
    .addOption(backendOption())
    .addOption(gpuAdapterOption())
    .option('--batch <n>', 'clips per step', parsePositiveInt('--batch'), 4)
    .option('--steps <n>', 'timed steps (after the warm-up)', parsePositiveInt('--steps'), 3)
    .option('--warmup <n>', 'untimed warm-up steps', (v) => Number(v), 1)
    .option('--threads <n>', 'wasm threads (default 2)', parsePositiveInt('--threads'))
    .addOption(
      jsonOption('{"backend":..,"threads":..,"batch":B,"train":{"clipsPerSec":x},"infer":{"clipsPerSec":y},...}'),
    )
    .addOption(pluginOption());
  withPartsHelp(cmd).action(
    action(
      computeAction(async () => {
        const { runBenchCommand } = await import('./bench-action.js');
        return (file: string | undefined, flags: BenchFlags) =>
          runBenchCommand(file ?? (existsSync(DEFAULT_EXPERIMENT) ? DEFAULT_EXPERIMENT : null), flags);
      }),
    ),
  );
}
