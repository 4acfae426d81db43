import { Command, InvalidArgumentError, Option } from 'commander';
import { action, parsePositiveInt } from '../action.js';
import { jsonOption } from '../options.js';
import { UserError } from '../../util/errors.js';
import {
  DEFAULT_SYNTH_OPTIONS,
  GENERATOR_VERSION,
  GENERATOR_VERSIONS,
  type SynthOptions,
} from '../../data/synth/versions.js';
import { MACHINE_TYPES } from '../../data/synth/machines/index.js';
import { registerGet } from './data-get.js';

function parseNonNegativeInt(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} expects a whole number >= 0, got ${JSON.stringify(value)}`);
    return n;
  };
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`--seconds expects a positive number, got ${JSON.stringify(value)}`);
  return n;
}

function parseVersion(value: string): number {
  const n = Number(value);
  if (!GENERATOR_VERSIONS.includes(n))
    throw new InvalidArgumentError(
      `--synth-version expects one of ${GENERATOR_VERSIONS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return n;
}

function parseTypes(value: string): string[] {
  const types = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const unknown = types.filter((t) => !MACHINE_TYPES.includes(t));
  if (types.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(
      `--types expects a comma-separated list of ${MACHINE_TYPES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return types;
}

/** `exp data synth`'s flags: the set's options, the version under its experiment-YAML name (`--synth-version`). */
type SynthFlags = Omit<SynthOptions, 'version'> & { synthVersion: number };

export function register(program: Command): void {
  const data = program
    .command('data')
    .description('dataset tools: generate the synthetic set, download or check a DCASE 2020 Task 2 root');

  data
    .command('synth')
    .description('write a deterministic synthetic machine-sound dataset in the DCASE 2020 Task 2 layout')
    .requiredOption(
      '--out <dir>',
      'output root (created; a previous synthetic set there is replaced, anything else is left alone and refused)',
    )
    .option(
      '--synth-version <n>',
      `generator version (${GENERATOR_VERSIONS.join(', ')}; data.synthVersion in an experiment)`,
      parseVersion,
      GENERATOR_VERSION,
    )
    .option('--seed <n>', 'random seed', parseNonNegativeInt('--seed'), DEFAULT_SYNTH_OPTIONS.seed)
    .addOption(
      new Option('--types <a,b>', `machine types, comma-separated (${MACHINE_TYPES.join(',')})`)
        .argParser(parseTypes)
        .default([...DEFAULT_SYNTH_OPTIONS.types], 'all six'),
    )
    .option(
      '--ids <n>',
      'machine IDs per type (id_00, id_02, ...)',
      parsePositiveInt('--ids'),
      DEFAULT_SYNTH_OPTIONS.ids,
    )
    .option('--train <n>', 'normal training clips per ID', parsePositiveInt('--train'), DEFAULT_SYNTH_OPTIONS.train)
    .option(
      '--test <n>',
      'test clips per ID, half normal, half anomalous',
      parseNonNegativeInt('--test'),
      DEFAULT_SYNTH_OPTIONS.test,
    )
    .option('--seconds <s>', 'clip length in seconds', parseSeconds, DEFAULT_SYNTH_OPTIONS.seconds)
    .option('--sample-rate <hz>', 'sample rate', parsePositiveInt('--sample-rate'), DEFAULT_SYNTH_OPTIONS.sampleRate)
    .action(
      action(async (flags: SynthFlags) => {
        // The set's writer (and its WAV encoder) is imported when the command runs, not when exp starts (src/cli/lazy.ts).
        const { clearSyntheticOutput, validateSynthOptions } = await import('../../data/synth/generate.js');
        const { synthesizeParallel } = await import('../../data/synth/parallel.js');
        const { synthVersion, ...rest } = flags;
        const opts: SynthOptions = { ...rest, version: synthVersion };
        validateSynthOptions(opts);
        clearSyntheticOutput(opts.out);
        const started = performance.now();
        const total = await synthesizeParallel(opts, (done, all) => {
          if (process.stderr.isTTY && (done % 20 === 0 || done === all))
            process.stderr.write(`\rexp: ${done}/${all} clips`);
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        const secs = (performance.now() - started) / 1000;
        process.stdout.write(
          `wrote ${total} clips (generator v${synthVersion}, ${opts.types.length} types x ${opts.ids} IDs x ${opts.train} train + ${opts.test} test, ${opts.seconds} s) to ${opts.out} in ${secs.toFixed(1)} s\n`,
        );
      }),
    );

  data
    .command('check')
    .description(
      'summarise a DCASE 2020 Task 2 root (types, IDs, clip counts), decode every WAV, and list every problem',
    )
    .argument('<dir>', 'dataset root holding <type>/train and <type>/test')
    .option(
      '--sample-rate <hz>',
      'the sample rate clips must have (exp does not resample)',
      parsePositiveInt('--sample-rate'),
      DEFAULT_SYNTH_OPTIONS.sampleRate,
    )
    .addOption(jsonOption('the summary and the problems as one JSON document'))
    .action(
      action(async (dir: string, flags: { json?: boolean; sampleRate: number }) => {
        // The WAV decoder is imported when the command runs, not when exp starts (src/cli/lazy.ts).
        const { indexDataset } = await import('../../data/dcase.js');
        const { formatSummary, summarize } = await import('../../data/summary.js');
        const { checkAudio, formatAudioProblems } = await import('../../data/audio-check.js');
        const index = indexDataset(dir);
        const summary = summarize(index);
        const tty = !flags.json && process.stderr.isTTY === true;
        const audio = checkAudio(
          index.clips.map((c) => c.path),
          {
            sampleRate: flags.sampleRate,
            ...(tty
              ? {
                  onProgress: (done: number, total: number) =>
                    (done % 200 === 0 || done === total) &&
                    process.stderr.write(`\rexp: decoding ${done}/${total}${done === total ? '\n' : ''}`),
                }
              : {}),
          },
        );
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ ...summary, audio: { sampleRate: flags.sampleRate, checked: audio.checked, problems: audio.problems } })}\n`,
          );
        } else {
          process.stdout.write(`${formatSummary(summary)}\n`);
        }
        if (audio.problems.length > 0) {
          process.stderr.write(`${formatAudioProblems(audio.problems)}\n`);
          process.stderr.write(
            `exp: ${audio.problems.length} of ${audio.checked} clips under ${dir} cannot be used (listed above, one line each)\n`,
          );
          process.exitCode = 1;
        } else if (!flags.json) {
          process.stdout.write(
            `all ${audio.checked} clips decode (mono, ${flags.sampleRate} Hz, 16-bit PCM or 32-bit float)\n`,
          );
        }
      }),
    );

  registerGet(data);
}
