import type { Command } from 'commander';
import { action } from '../action.js';
import { jsonOption, setOption } from '../options.js';
import { computeAction } from '../lazy.js';

/** `exp features`: its flags; what it does is in features-action.ts, imported when it runs. */
export function register(program: Command): void {
  program
    .command('features')
    .description('the front-end features of one clip: a summary, the log-Mel as JSON (--json), or an image (--png)')
    .argument('<file.wav>', 'a mono 16-bit PCM or 32-bit float WAV at the configured sample rate')
    .addOption(jsonOption('{"sampleRate", "logmel": {"shape": [mels, frames], "data": [[...], ...]}} (data[m][t])'))
    .option('--png <file>', 'write the features as a PNG (low frequencies at the bottom, time to the right)')
    .option('--config <experiment.yaml>', 'take data.sampleRate and features.logmel.* from this experiment')
    .addOption(setOption('override an experiment key, e.g. features.logmel.scale=slaney'))
    .addHelpText('after', '\nThe clip is used at its own length (not cut or padded to data.seconds).')
    .action(action(computeAction(async () => (await import('./features-action.js')).runFeatures)));
}
