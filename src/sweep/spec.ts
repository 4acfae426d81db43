import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ExperimentConfig } from '../config/schema.js';
import { checkSystem } from '../systems/build.js';
import { applyOverride, formatIssues, readYamlFile, type Override } from '../config/load.js';
import { takePluginPaths, validateExperiment } from '../parts/experiment.js';
import { loadPluginFiles, type LoadedPlugins } from '../parts/files.js';
import { defaultCatalog } from '../parts/builtin.js';
import { canonicalJson, experimentHash } from '../config/hash.js';
import { UserError, isUserError } from '../util/errors.js';
import { ExecutorSpec } from './executor-spec.js';
import { checkName, displayName } from '../util/names.js';
import { PruneSpec, SearchSpec, type Point } from './search/space.js';
import { checkSearch, type SearchPlan } from './search/plan.js';
import type { Trial, TrialMaker } from './trial.js';
import { DEFAULT_MAX_TRIALS } from './limits.js';

export type { Trial, TrialMaker } from './trial.js';

const PaperPair = z.strictObject({ auc: z.number(), pauc: z.number() });

/**
 * The paper's reference value for a trial (AUC / pAUC in %, Tables 2-4), shown beside ours;
 * `types` holds Table 2's per-machine-type values.
 */
export const PaperValue = z.strictObject({
  auc: z.number(),
  pauc: z.number(),
  types: z.record(z.string(), PaperPair).optional(),
});
export type PaperValue = z.infer<typeof PaperValue>;

/** Dotted experiment keys -> values, applied in order like --set. */
const SetMap = z.record(z.string().min(1), z.unknown());

export const SweepSpec = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a name of letters, digits, . _ -'),
  description: z.string().optional(),
  /** The experiment YAML every trial starts from, relative to the sweep file. */
  base: z.string().min(1),
  /** Applied to every trial, before the trial's own set. */
  set: SetMap.default({}),
  /** Named bundles of settings (`--profile quick`), applied after the trial's set. */
  profiles: z.record(z.string(), SetMap).default({}),
  trials: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._=,+-]*$/, 'a name of letters, digits, . _ = , + -'),
        /** This trial's own experiment YAML (relative to the sweep file) instead of the sweep's base: Table 2's rows are different systems. */
        base: z.string().min(1).optional(),
        set: SetMap.default({}),
        /** This trial's additions to a sweep profile, applied after the sweep's (e.g. a smaller flow in `quick`). */
        profiles: z.record(z.string(), SetMap).optional(),
        paper: PaperValue.optional(),
      }),
    )
    .optional(),
  /** Cartesian product over these keys; with `trials` as well, every trial is crossed with every point. */
  grid: z.record(z.string().min(1), z.array(z.unknown())).optional(),
  /** Batch job options for `exp sweep --executor slurm` (src/sweep/executor-spec.ts); no effect on trial configs. */
  executor: ExecutorSpec.optional(),
  /** The most trials this sweep may expand to (default DEFAULT_MAX_TRIALS; `--max-trials` overrides it). */
  maxTrials: z.number().int().positive().optional(),
  /** An adaptive search (src/sweep/search/): configurations sampled from a space instead of listed. */
  search: SearchSpec.optional(),
  /** Pruning by rungs of epochs (ASHA, median); works with search, grid or trials. */
  prune: PruneSpec.optional(),
  /** Selecting on a test-set metric (AUC / pAUC) is refused unless this says so; such a sweep is marked in show, export and the report. */
  allowTestSelection: z.boolean().default(false),
  /** Plug-in files (relative to this file) whose parts the trials may use; recorded in every trial's config. */
  plugins: z.array(z.string().min(1)).optional(),
});
export type SweepSpec = z.infer<typeof SweepSpec>;

export interface ExpandedSweep {
  name: string;
  file: string;
  baseFile: string;
  spec: SweepSpec;
  profile: string | null;
  trials: Trial[];
  /** Adaptive sweeps only: how configurations are sampled, built and judged (src/sweep/search/plan.ts). */
  search?: SearchPlan;
}

/** What the store records of a sweep (RunStore.registerSweep). */
export function sweepRecord(
  sweep: ExpandedSweep,
): Pick<ExpandedSweep, 'name' | 'file' | 'profile' | 'spec' | 'trials'> {
  return { name: sweep.name, file: sweep.file, profile: sweep.profile, spec: sweep.spec, trials: sweep.trials };
}

export { DEFAULT_MAX_TRIALS };

/**
 * How many trials a sweep expands to, from the sizes alone (nothing is built): the explicit rows
 * (or one) times the product of the grid's list lengths, times the seeds. A float: a product past
 * 2^53 is still far above any cap.
 */
export function trialCount(spec: Pick<SweepSpec, 'trials' | 'grid'>, seeds = 0): number {
  const grid = Object.values(spec.grid ?? {}).reduce((n, values) => n * values.length, 1);
  return Math.max(1, spec.trials?.length ?? 0) * grid * Math.max(1, seeds);
}

function checkTrialCount(file: string, spec: SweepSpec, seeds: number, flag: number | undefined): void {
  const cap = flag ?? spec.maxTrials ?? DEFAULT_MAX_TRIALS;
  const n = trialCount(spec, seeds);
  if (n <= cap) return;
  const sizes = Object.entries(spec.grid ?? {}).map(([k, v]) => `${k} ${v.length}`);
  const parts = [
    ...(spec.trials?.length ? [`${spec.trials.length} trials`] : []),
    ...(sizes.length ? [`grid ${sizes.join(' x ')}`] : []),
    ...(seeds > 1 ? [`${seeds} seeds`] : []),
  ];
  const count = n < 1e15 ? String(n) : n.toExponential(2);
  const source =
    flag !== undefined ? '--max-trials' : spec.maxTrials !== undefined ? 'maxTrials in the file' : 'the default';
  throw new UserError(
    `${file}: the sweep expands to ${count} trials (${parts.join(' x ')}), over the limit of ${cap} (${source}); raise it with --max-trials N or maxTrials: N in the sweep file if you mean it`,
  );
}

/** The `name:` of a sweep file, without expanding its trials (for commands that only need the name). */
export function readSweepName(ref: string, cwd = process.cwd()): string {
  const file = resolveSweepFile(ref, cwd);
  const raw = readYamlFile(file);
  const name = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['name'] : undefined;
  if (typeof name !== 'string') throw new UserError(`${file}: name: expected the sweep's name`);
  return name;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The sweeps/ folder shipped with the package (dist/sweep/ or src/sweep/ -> ../../sweeps). */
const packagedSweeps = resolve(here, '..', '..', 'sweeps');

/** `exp sweep softtriple`, `softtriple.yaml` and `sweeps/softtriple.yaml` all find the same file. */
export function resolveSweepFile(ref: string, cwd = process.cwd()): string {
  const names = /\.ya?ml$/.test(ref) ? [ref] : [ref, `${ref}.yaml`, `${ref}.yml`];
  const dirs = isAbsolute(ref) ? [''] : [cwd, join(cwd, 'sweeps'), packagedSweeps];
  for (const dir of dirs) {
    for (const n of names) {
      const file = dir ? join(dir, n) : n;
      if (existsSync(file) && statSync(file).isFile()) return resolve(file);
    }
  }
  throw new UserError(`sweep ${JSON.stringify(ref)}: no such file (looked in ., ./sweeps and ${packagedSweeps})`);
}

function applyAll(target: Record<string, unknown>, set: Record<string, unknown>, where: string): void {
  for (const [key, value] of Object.entries(set)) {
    try {
      applyOverride(target, { key, value: structuredClone(value) });
    } catch (e) {
      if (isUserError(e)) throw new UserError(`${where}: ${e.message.replace(/^--set /, '')}`);
      throw e;
    }
  }
}

function gridPoints(grid: Record<string, unknown[]>): Array<Record<string, unknown>> {
  let points: Array<Record<string, unknown>> = [{}];
  for (const [key, values] of Object.entries(grid))
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  return points;
}

const shortKey = (key: string): string => key.split('.').pop()!;
/** A sampled configuration's name: its index, then its values (floats to 4 significant digits; the config keeps them exact). */
function unitName(unit: number, point: Point): string {
  const short = (v: unknown): string =>
    typeof v === 'number' && !Number.isInteger(v)
      ? Number(v.toPrecision(4)).toString()
      : typeof v === 'string'
        ? v
        : canonicalJson(v);
  return `c${String(unit).padStart(3, '0')}/${Object.entries(point)
    .map(([k, v]) => `${shortKey(k)}=${short(v)}`)
    .join(',')}`;
}

const pointName = (point: Record<string, unknown>): string =>
  Object.entries(point)
    .map(([k, v]) => `${shortKey(k)}=${typeof v === 'string' ? v : canonicalJson(v)}`)
    .join(',');

/**
 * Reads and validates a sweep YAML and expands it into trials, each a validated experiment config:
 * base YAML + sweep `set` + trial `set` (+ grid point) + profile + `--set` (+ `--seeds`: every
 * row once per seed, named `<row>/seed=<s>`, keeping the paper's value since it is still that
 * row). Every problem is reported before any trial starts, naming the sweep file and the trial.
 */
export interface LoadSweepOptions {
  profile?: string | null;
  overrides?: readonly Override[];
  seeds?: readonly number[];
  cwd?: string;
  maxTrials?: number;
  /** The plug-ins loaded for this sweep (loadSweepWithPlugins); without them only built-in parts exist. */
  plugins?: LoadedPlugins;
}

/**
 * The plug-in files a sweep names: its own `plugins:` (relative to the sweep file) and those of
 * the experiment YAMLs its trials start from (relative to each), in that order.
 */
export function sweepPluginPaths(file: string): string[] {
  const raw = readYamlFile(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [];
  const spec = raw as { plugins?: unknown; base?: unknown; trials?: unknown };
  const paths = takePluginPaths({ plugins: spec.plugins }, file);
  const bases = [
    spec.base,
    ...(Array.isArray(spec.trials) ? spec.trials.map((t: { base?: unknown } | null) => t?.base) : []),
  ];
  for (const base of new Set(bases.filter((b): b is string => typeof b === 'string'))) {
    const baseFile = resolve(dirname(file), base);
    if (!existsSync(baseFile)) continue; // loadSweep names the missing file
    const yaml = readYamlFile(baseFile);
    if (typeof yaml === 'object' && yaml !== null && !Array.isArray(yaml))
      paths.push(...takePluginPaths(yaml as Record<string, unknown>, baseFile));
  }
  return paths;
}

/** loadSweep with the plug-ins its YAMLs name and the `--plugin` paths (relative to the working directory). */
export async function loadSweepWithPlugins(
  ref: string,
  opts: Omit<LoadSweepOptions, 'plugins'> & { plugins?: readonly string[] } = {},
): Promise<ExpandedSweep> {
  const file = resolveSweepFile(ref, opts.cwd);
  const plugins = await loadPluginFiles([...sweepPluginPaths(file), ...(opts.plugins ?? [])], opts.cwd);
  return loadSweep(file, { ...opts, plugins });
}

export function loadSweep(ref: string, opts: LoadSweepOptions = {}): ExpandedSweep {
  const file = resolveSweepFile(ref, opts.cwd);
  const raw = readYamlFile(file);
  const parsed = SweepSpec.safeParse(raw);
  if (!parsed.success) throw new UserError(formatIssues(file, parsed.error));
  const spec = parsed.data;
  if (spec.grid !== undefined) {
    const keys = Object.keys(spec.grid);
    if (keys.length === 0)
      throw new UserError(`${file}: grid is empty (give at least one key with a list of values, or remove grid)`);
    for (const k of keys) if (spec.grid[k]!.length === 0) throw new UserError(`${file}: grid.${k} is an empty list`);
  }
  if ((spec.trials?.length ?? 0) === 0 && spec.grid === undefined && spec.search === undefined)
    throw new UserError(`${file}: no trials (give trials, grid, search, or a mix)`);
  if (spec.search !== undefined && ((spec.trials?.length ?? 0) > 0 || spec.grid !== undefined)) {
    throw new UserError(
      `${file}: search cannot be combined with trials or grid (put the grid's keys in search.space with method: grid)`,
    );
  }
  // Before anything is expanded: the count comes from the list sizes alone.
  checkTrialCount(file, spec, opts.seeds?.length ?? 0, opts.maxTrials);
  const seen = new Map<string, number>();
  for (const t of spec.trials ?? []) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  const dups = [...seen].filter(([, n]) => n > 1).map(([name]) => name);
  if (dups.length > 0) throw new UserError(`${file}: duplicate trial names: ${dups.join(', ')}`);

  const profile = opts.profile ?? null;
  if (profile !== null && !(profile in spec.profiles)) {
    const known = Object.keys(spec.profiles);
    throw new UserError(
      `${file}: no profile ${JSON.stringify(profile)} (this sweep has: ${known.length ? known.join(', ') : 'none'})`,
    );
  }

  const bases = new Map<string, Record<string, unknown>>();
  /** An experiment YAML relative to the sweep file, read once. */
  const readBase = (ref: string, where: string): Record<string, unknown> => {
    const baseFile = resolve(dirname(file), ref);
    if (!bases.has(baseFile)) {
      if (!existsSync(baseFile)) throw new UserError(`${where}: base ${ref}: file not found (${baseFile})`);
      const base = readYamlFile(baseFile);
      if (typeof base !== 'object' || base === null || Array.isArray(base))
        throw new UserError(`${baseFile}: expected a mapping of experiment keys`);
      // Its plug-in paths were loaded with the sweep's (sweepPluginPaths); the trials record them.
      const named = takePluginPaths(base as Record<string, unknown>, baseFile);
      const loaded = new Set(opts.plugins?.refs.map((r) => r.path) ?? []);
      const missing = named.find((p) => !loaded.has(p));
      if (missing !== undefined)
        throw new UserError(
          `${baseFile}: plugins: ${missing} is not loaded (load the sweep with loadSweepWithPlugins, as exp sweep does)`,
        );
      bases.set(baseFile, base as Record<string, unknown>);
    }
    return bases.get(baseFile)!;
  };
  const baseFile = resolve(dirname(file), spec.base);
  readBase(spec.base, file);

  type Row = {
    name: string;
    set: Record<string, unknown>;
    paper: PaperValue | null;
    base: string;
    profiles: Record<string, Record<string, unknown>>;
  };
  const rows: Row[] = [];
  const explicit = spec.trials ?? [];
  for (const t of explicit) {
    const unknown = Object.keys(t.profiles ?? {}).filter((p) => !(p in spec.profiles));
    if (unknown.length > 0)
      throw new UserError(
        `${file} trial ${t.name}: profiles.${unknown[0]}: the sweep has no such profile (it has: ${Object.keys(spec.profiles).join(', ') || 'none'})`,
      );
  }
  const points = spec.grid ? gridPoints(spec.grid) : [{}];
  if (explicit.length === 0 && spec.search === undefined)
    for (const p of points) rows.push({ name: pointName(p), set: p, paper: null, base: spec.base, profiles: {} });
  for (const t of explicit) {
    for (const p of points) {
      const crossed = Object.keys(p).length > 0;
      // A crossed row is no longer the paper's row: its reference value is dropped.
      rows.push({
        name: crossed ? `${t.name}/${pointName(p)}` : t.name,
        set: { ...t.set, ...p },
        paper: crossed ? null : (t.paper ?? null),
        base: t.base ?? spec.base,
        profiles: t.profiles ?? {},
      });
    }
  }

  const seeded =
    opts.seeds && opts.seeds.length > 0
      ? rows.flatMap((row) => opts.seeds!.map((seed) => ({ ...row, name: `${row.name}/seed=${seed}`, seed })))
      : rows.map((row) => ({ ...row, seed: null as number | null }));

  checkName(spec.name, `${file}: name`);
  // A trial's run is named <sweep>/<trial>; grid values become part of it, so the name rule applies to the whole.
  for (const row of seeded) checkName(`${spec.name}/${row.name}`, `${file}: trial ${displayName(row.name)}`);

  const overrides = opts.overrides ?? [];
  const catalog = opts.plugins?.catalog ?? defaultCatalog();
  const refs = opts.plugins?.refs ?? [];
  if (spec.plugins?.some((p) => !refs.some((r) => r.path === resolve(dirname(file), p)))) {
    throw new UserError(`${file}: plugins: not loaded (load the sweep with loadSweepWithPlugins, as exp sweep does)`);
  }
  const build = (row: Row & { seed: number | null }, index: number, extra: Record<string, unknown> = {}): Trial => {
    const where = `${file} trial ${row.name}`;
    const copy = structuredClone(readBase(row.base, where));
    applyAll(copy, spec.set, `${file} set`);
    applyAll(copy, row.set, where);
    if (profile !== null) applyAll(copy, spec.profiles[profile]!, `${file} profiles.${profile}`);
    if (profile !== null && row.profiles[profile])
      applyAll(copy, row.profiles[profile]!, `${where} profiles.${profile}`);
    applyAll(copy, Object.fromEntries(overrides.map((o) => [o.key, o.value])), '--set');
    if (row.seed !== null) applyAll(copy, { seed: row.seed }, '--seeds');
    applyAll(copy, extra, `${file} prune`);
    if (refs.length > 0) copy['plugins'] = refs;
    const config = validateExperiment(copy, `${where} (base ${row.base})`, catalog);
    try {
      checkSystem(config, catalog);
    } catch (e) {
      throw isUserError(e) ? new UserError(`${where}: ${e.message}`) : e;
    }
    return { index, name: row.name, config, hash: experimentHash(config), paper: row.paper, set: row.set };
  };
  // With pruning every trial's schedule is the full budget's: a promoted trial trains exactly as an unpruned one.
  const pruneSet: Record<string, unknown> = spec.prune ? { 'train.epochs': spec.prune.maxEpochs } : {};
  const trials = seeded.map((row, index): Trial => build(row, index, pruneSet));
  const seedList: Array<number | null> = opts.seeds && opts.seeds.length > 0 ? [...opts.seeds] : [null];
  const makeTrials: TrialMaker = (unit, point) => {
    const row: Row = { name: unitName(unit, point), set: point, paper: null, base: spec.base, profiles: {} };
    return seedList.map((seed, k) =>
      build(
        { ...row, name: seed === null ? row.name : `${row.name}/seed=${seed}`, seed },
        unit * seedList.length + k,
        pruneSet,
      ),
    );
  };
  let search: SearchPlan | undefined;
  if (spec.search !== undefined || spec.prune !== undefined) {
    search = checkSearch(file, spec, trials, seedList.length, makeTrials);
  }

  const byHash = new Map<string, string>();
  for (const t of trials) {
    const other = byHash.get(t.hash);
    if (other !== undefined)
      throw new UserError(
        `${file}: trials ${other} and ${t.name} have the same configuration (hash ${t.hash}); a sweep runs each configuration once`,
      );
    byHash.set(t.hash, t.name);
  }
  return { name: spec.name, file, baseFile, spec, profile, trials, ...(search ? { search } : {}) };
}
