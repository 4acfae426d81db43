import type { Command } from 'commander';
import { action, parsePositiveInt } from '../action.js';
import { jsonOption, setOption } from '../options.js';
import { DCASE_CLASSES } from '../../paper/classes.js';
import { pluginOption } from '../plugin-option.js';
import { withPartsHelp } from '../parts-help.js';
import { computeAction } from '../lazy.js';

/** `exp params`: its flags; what it does is in params-action.ts, imported when it runs. */
export function register(program: Command): void {
  const cmd = program
    .command('params')
    .description("trainable parameters per module and total, beside the paper's Table 5")
    .argument('<experiment.yaml>', 'an experiment file, e.g. experiments/fgaspecnet.yaml')
    .addOption(setOption())
    .option('--classes <n>', 'classes of the head (machine IDs)', parsePositiveInt('--classes'), DCASE_CLASSES)
    .addOption(jsonOption('{"total":N,"modules":{"<name>":N,...},...}'))
    .addOption(pluginOption());
  withPartsHelp(cmd).action(action(computeAction(async () => (await import('./params-action.js')).runParams)));
}
