import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_STALE_SECONDS } from '../store/stale.js';

/**
 * The options several commands share, declared once: each command adds the ones it takes with
 * `.addOption(...)`, so a flag is spelled, parsed, defaulted and described the same everywhere.
 * A command may say more about a flag in its own words (the `what` arguments) but not differently.
 */

/** `--db` default: EXP_DB (a SQLite path or a postgres:// URL), else runs/exp.db. */
export const DEFAULT_DB = process.env.EXP_DB || 'runs/exp.db';

/** Commander collector for repeatable options such as --set. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parsePositiveInt(name: string, expected = 'a positive whole number'): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) {
      // Commander prints this message and exits 1.
      throw new InvalidArgumentError(`${name} expects ${expected}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** `--seeds 1,2,3`: distinct whole numbers >= 0 (the experiment's `seed` key). Commander prints the error and exits 1. */
export function parseSeeds(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  const seeds = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || seeds.length === 0) {
    throw new InvalidArgumentError(
      `--seeds expects whole numbers >= 0 separated by commas (e.g. 1,2,3), got ${JSON.stringify(value)}`,
    );
  }
  if (new Set(seeds).size !== seeds.length)
    throw new InvalidArgumentError(`--seeds lists a seed twice: ${JSON.stringify(value)}`);
  return seeds;
}

/** `--db`: the run store, either engine. `note` adds what this command does with it. */
export const dbOption = (note?: string): Option =>
  new Option('--db <file|url>', `run store: a SQLite file or a postgres:// URL${note ? `; ${note}` : ''}`).default(
    DEFAULT_DB,
    '$EXP_DB, else runs/exp.db',
  );

export const backendOption = (): Option =>
  new Option(
    '--backend <name>',
    'auto | webgpu | tensorflow | wasm | cpu (auto: a hardware GPU through WebGPU, else the native bindings, else wasm)',
  ).default('auto');

/** `--gpu-adapter`: which WebGPU adapter (exported to the processes the command starts as EXP_WEBGPU_ADAPTER). */
export const gpuAdapterOption = (): Option =>
  new Option(
    '--gpu-adapter <name>',
    'webgpu: the adapter whose name contains this (default $EXP_WEBGPU_ADAPTER; a name that matches none lists the adapters)',
  );

/** `--threads N` (wasm); `what` says the default here. */
export const threadsOption = (what = 'default $EXP_THREADS, else 2'): Option =>
  new Option('--threads <n>', `wasm compute threads per training process (${what})`).argParser(
    parsePositiveInt('--threads'),
  );

/** `--set key=value`, repeatable; `what` says what it overrides here. */
export const setOption = (what = 'override a dotted key of the experiment YAML'): Option =>
  new Option('--set <key=value>', `${what} (repeatable; values parsed as YAML)`).argParser(collect).default([]);

/** `--json`: exactly one JSON document on stdout; `shape` describes it. */
export const jsonOption = (shape = 'one JSON document'): Option => new Option('--json', `print ${shape}`);

export const artifactsOption = (what = 'directory for run directories (checkpoints), recorded with each run'): Option =>
  new Option('--artifacts <dir>', what);

export const profileOption = (
  what = "apply one of the sweep's profiles (e.g. quick: short clips, few epochs)",
): Option => new Option('--profile <name>', what);

export const seedsOption = (
  what = 'run every trial once per seed, e.g. 1,2,3; the summary adds mean ± sd over seeds',
): Option => new Option('--seeds <list>', what).argParser(parseSeeds);

/** `--lease <seconds>`; `defaulted` false leaves it undefined when not given (the caller decides). */
export const leaseOption = (what: string, defaulted = true): Option => {
  const o = new Option('--lease <seconds>', what).argParser(parsePositiveInt('--lease'));
  return defaulted ? o.default(DEFAULT_STALE_SECONDS) : o;
};

/** `--max-trials <n>`: the most trials a sweep may expand to (exp sweep, and its workers). */
export const maxTrialsOption = (what: string): Option =>
  new Option('--max-trials <n>', what).argParser(parsePositiveInt('--max-trials'));

export const noDashboardOption = (what = 'plain one-line progress instead of the live dashboard'): Option =>
  new Option('--no-dashboard', what);

/**
 * Which trials a sweep has and where they run: what `exp sweep --executor slurm` passes on to
 * every `exp worker` task, so both read the sweep the same way.
 */
export interface SweepSelection {
  db: string;
  artifacts?: string;
  profile?: string;
  seeds?: number[];
  set: string[];
  backend: string;
  /** --max-trials: the sweep's trial limit, passed from exp sweep to its workers. */
  maxTrials?: number;
  /** `--plugin` paths, as given to exp sweep. */
  plugin?: string[];
}
