import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { ensureDir } from '../../util/dirs.js';
import { removeDeadTemporaries, temporaryPath } from '../../util/temp-paths.js';
import { asUserFsError, errnoCode, withFsErrors } from '../../util/fs-errors.js';
import { encodeWav } from '../../audio/wav.js';
import { configHash } from '../../config/hash.js';
import { UserError } from '../../util/errors.js';
import type { ClipSpec, RenderedClip } from './types.js';
import { GENERATOR_VERSION, defaultSynthOptions, generatorFor, type SynthOptions } from './versions.js';

export type { ClipSpec, RenderedClip, SynthGenerator } from './types.js';
export {
  DEFAULT_SYNTH_OPTIONS,
  GENERATORS,
  GENERATOR_VERSION,
  GENERATOR_VERSIONS,
  defaultSynthOptions,
  generatorFor,
  type SynthOptions,
} from './versions.js';

export function machineIds(count: number): string[] {
  return Array.from({ length: count }, (_, k) => `id_${String(2 * k).padStart(2, '0')}`);
}

/**
 * One clip, a pure function of its spec and the generator version: the ID's parameters come from
 * (seed, type, ID), the clip's from (seed, type, ID, split, label, index), so any subset renders
 * identical clips.
 */
export function renderClip(spec: ClipSpec, version = GENERATOR_VERSION): RenderedClip {
  return generatorFor(version).render(spec);
}

/** The file name DCASE 2020 uses: normal_id_00_00000012.wav. */
export function clipFileName(label: 0 | 1, machineId: string, index: number): string {
  return `${label === 1 ? 'anomaly' : 'normal'}_${machineId}_${String(index).padStart(8, '0')}.wav`;
}

export interface SynthManifestClip {
  file: string;
  label: 0 | 1;
  fault: string | null;
  severity: number | null;
  snrDb: number;
}

export interface SynthManifest {
  /** The generator version. */
  generator: number;
  options: Omit<SynthOptions, 'out' | 'version'>;
  /** Test clips only: which fault each anomalous clip carries (for per-fault analysis). */
  test: SynthManifestClip[];
  /**
   * Every file this synth writes, relative to the root (synth.json itself aside). Written before
   * the first clip, so even a set cut short by a full disk can be recognised and replaced: exp
   * replaces a folder only when it holds nothing else.
   */
  files: string[];
  /** False until the last clip is written. */
  complete: boolean;
}

export const SYNTH_MANIFEST = 'synth.json';

export function validateSynthOptions(o: SynthOptions): void {
  const bad = (what: string): never => {
    throw new UserError(`synthetic data: ${what}`);
  };
  const { machines } = generatorFor(o.version ?? GENERATOR_VERSION);
  for (const t of o.types)
    if (!machines.has(t))
      bad(`unknown machine type ${JSON.stringify(t)}; expected one of ${[...machines.keys()].join(', ')}`);
  if (o.types.length === 0) bad('no machine types given');
  if (!Number.isInteger(o.seed) || o.seed < 0) bad(`seed must be a whole number >= 0, got ${o.seed}`);
  if (!Number.isInteger(o.ids) || o.ids < 1 || o.ids > 50) bad(`ids must be a whole number from 1 to 50, got ${o.ids}`);
  if (!Number.isInteger(o.train) || o.train < 1) bad(`train must be a positive whole number, got ${o.train}`);
  if (!Number.isInteger(o.test) || o.test < 0 || o.test === 1)
    bad(`test must be 0 or a whole number >= 2 (half normal, half anomalous), got ${o.test}`);
  if (!(o.seconds > 0) || o.seconds > 600) bad(`seconds must be > 0 and <= 600, got ${o.seconds}`);
  if (!Number.isInteger(o.sampleRate) || o.sampleRate < 8000)
    bad(`sampleRate must be a whole number >= 8000, got ${o.sampleRate}`);
}

/** One clip of a set: what to render and where it goes, relative to the set's root. */
export interface PlannedClip {
  type: string;
  machineId: string;
  split: 'train' | 'test';
  label: 0 | 1;
  index: number;
  rel: string;
}

/** Every clip of the set, in the order its manifest lists them (type, ID, train, normal test, anomalous test). */
export function planClips(opts: SynthOptions): PlannedClip[] {
  const ids = machineIds(opts.ids);
  const nAnomaly = Math.floor(opts.test / 2);
  const nNormal = opts.test - nAnomaly;
  const plan: PlannedClip[] = [];
  for (const type of opts.types) {
    for (const machineId of ids) {
      const jobs: Array<{ split: 'train' | 'test'; label: 0 | 1; index: number }> = [];
      for (let i = 0; i < opts.train; i++) jobs.push({ split: 'train', label: 0, index: i });
      for (let i = 0; i < nNormal; i++) jobs.push({ split: 'test', label: 0, index: i });
      for (let i = 0; i < nAnomaly; i++) jobs.push({ split: 'test', label: 1, index: i });
      for (const job of jobs)
        plan.push({
          type,
          machineId,
          ...job,
          rel: join(type, job.split, clipFileName(job.label, machineId, job.index)),
        });
    }
  }
  return plan;
}

/** A set being written: its manifest (test clips filled in by the caller) and how to finish it. */
export interface SetInProgress {
  plan: PlannedClip[];
  manifest: SynthManifest;
  /** Marks the manifest complete and writes it: the last step of a set. */
  finish(): number;
}

/**
 * Starts a set in `opts.out`: the manifest listing every file it will write (so a set cut short
 * is recognised as exp's own), and the folders. The clips are written by writeClip.
 */
export function beginSet(opts: SynthOptions): SetInProgress {
  validateSynthOptions(opts);
  const plan = planClips(opts);
  const version = opts.version ?? GENERATOR_VERSION;
  const manifest: SynthManifest = {
    generator: version,
    options: { ...stripOut(opts) },
    test: [],
    files: plan.map((p) => p.rel),
    complete: false,
  };
  const writeManifest = () => writeFileSync(join(opts.out, SYNTH_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  withFsErrors(opts.out, 'cannot write the synthetic set', () => {
    ensureDir(opts.out, 'the output directory');
    writeManifest();
    for (const type of opts.types)
      for (const split of ['train', 'test']) ensureDir(join(opts.out, type, split), 'the output directory');
  });
  return {
    plan,
    manifest,
    finish: () => {
      manifest.complete = true;
      withFsErrors(join(opts.out, SYNTH_MANIFEST), 'cannot write the synthetic set', writeManifest);
      return plan.length;
    },
  };
}

/** Renders one clip and writes its WAV file; a test clip's manifest entry (null for a training clip). */
export function writeClip(opts: SynthOptions, job: PlannedClip): SynthManifestClip | null {
  const clip = generatorFor(opts.version ?? GENERATOR_VERSION).render({
    seed: opts.seed,
    type: job.type,
    machineId: job.machineId,
    split: job.split,
    label: job.label,
    index: job.index,
    seconds: opts.seconds,
    sampleRate: opts.sampleRate,
  });
  withFsErrors(join(opts.out, job.rel), 'cannot write the clip', () =>
    writeFileSync(join(opts.out, job.rel), encodeWav(clip.samples, opts.sampleRate)),
  );
  if (job.split !== 'test') return null;
  return {
    file: job.rel,
    label: job.label,
    fault: clip.fault?.kind ?? null,
    severity: clip.fault ? round(clip.fault.severity) : null,
    snrDb: round(clip.snrDb),
  };
}

/**
 * Writes the whole set into `opts.out` (created if needed) and returns the number of clips, in
 * this thread (synthesizeParallel, src/data/synth/parallel.ts, writes the same bytes on several).
 */
export function synthesize(opts: SynthOptions, onClip?: (done: number, total: number) => void): number {
  const set = beginSet(opts);
  let done = 0;
  for (const job of set.plan) {
    const entry = writeClip(opts, job);
    if (entry) set.manifest.test.push(entry);
    onClip?.(++done, set.plan.length);
  }
  return set.finish();
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The options without where they are written or the version (which is the manifest's `generator`). */
function stripOut(o: SynthOptions): Omit<SynthOptions, 'out' | 'version'> {
  const { out: _out, version: _version, ...rest } = o;
  return rest;
}

export const COMPLETE_MARKER = '.complete';

/**
 * The synthetic set for these options, generated on first use under `<baseDir>/<hash>/`
 * (default runs/synth). It is written to a temporary directory and renamed into place with a
 * completion marker, so a killed generation never leaves a half dataset behind.
 */
export function ensureSyntheticDataset(
  opts: Partial<Omit<SynthOptions, 'out'>> & { baseDir?: string } = {},
  onClip?: (done: number, total: number) => void,
): string {
  const set = locateSyntheticSet(opts);
  if (set.ready) return set.root;
  try {
    synthesize({ ...set.options, out: set.tmp }, onClip);
    set.commit();
  } finally {
    set.cleanUp();
  }
  return set.root;
}

/** Where the built-in set for these options lives; when it is not there yet, how to write it. */
export function locateSyntheticSet(opts: Partial<Omit<SynthOptions, 'out'>> & { baseDir?: string }): {
  root: string;
  ready: boolean;
  options: Omit<SynthOptions, 'out'>;
  /** The temporary directory to write into. */
  tmp: string;
  /** Moves the finished set from tmp into place. */
  commit(): void;
  cleanUp(): void;
} {
  const { baseDir = join('runs', 'synth'), version = GENERATOR_VERSION, ...given } = opts;
  const full: Omit<SynthOptions, 'out' | 'version'> = { ...defaultSynthOptions(version), ...stripUndefined(given) };
  // The data hash names the generator version, so each version's sets live side by side.
  const root = join(baseDir, configHash({ generator: version, ...full }));
  const ready = existsSync(join(root, COMPLETE_MARKER));
  if (!ready) {
    ensureDir(baseDir, 'the synthetic data cache');
    // Half sets of generations killed while writing (only provably dead writers: src/util/temp-paths.ts).
    removeDeadTemporaries(baseDir);
  }
  const tmp = temporaryPath(root);
  return {
    root,
    ready,
    options: { ...full, version },
    tmp,
    commit: () => {
      writeFileSync(join(tmp, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
      if (existsSync(root) && !existsSync(join(root, COMPLETE_MARKER))) rmSync(root, { recursive: true, force: true });
      try {
        renameSync(tmp, root);
      } catch (e) {
        // Another process finished the same set first: theirs is identical, keep it.
        if (!existsSync(join(root, COMPLETE_MARKER))) throw e;
      }
    },
    cleanUp: () => rmSync(tmp, { recursive: true, force: true }),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Makes `dir` ready for a new synthetic set without touching anything exp did not write: a
 * missing or empty directory is fine; a directory holding a previous synth's files (listed in its
 * synth.json) and nothing else has those files removed; anything else is a user error naming
 * what is in the way (a synth once deleted the whole folder, user files included).
 */
export function clearSyntheticOutput(dir: string): void {
  const owned = ownedFiles(dir);
  if (owned === null) return;
  const foreign = listTree(dir).filter((rel) => !owned.files.has(rel) && !owned.dirs.has(rel));
  if (foreign.length > 0) {
    const shown = foreign
      .slice(0, 3)
      .map((f) => join(dir, f))
      .join(', ');
    const more = foreign.length > 3 ? ` and ${foreign.length - 3} more` : '';
    throw new UserError(
      `--out ${dir}: holds files a synth did not write (${shown}${more}); exp replaces a folder only when it holds nothing but a previous synthetic set: choose another directory or move them`,
    );
  }
  withFsErrors(dir, 'cannot remove the previous synthetic set', () => {
    for (const rel of owned.files) rmSync(join(dir, rel), { force: true });
    for (const rel of [...owned.dirs].sort((a, b) => b.length - a.length))
      if (existsSync(join(dir, rel))) rmdirSync(join(dir, rel));
  });
}

/** The files and folders a previous synth wrote into `dir`; null when `dir` is missing or empty. */
function ownedFiles(dir: string): { files: Set<string>; dirs: Set<string> } | null {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UserError(`--out ${dir}: exists and is not a directory`);
    entries = readdirSync(dir);
  } catch (e) {
    // Missing, or under a regular file: ensureDir names the problem when it tries to create it.
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return null;
    throw asUserFsError(e, dir, '--out');
  }
  if (entries.length === 0) return null;
  let manifest: Partial<SynthManifest> | null = null;
  try {
    manifest = JSON.parse(readFileSync(join(dir, SYNTH_MANIFEST), 'utf8')) as Partial<SynthManifest>;
  } catch {
    manifest = null;
  }
  if (!manifest || !Array.isArray(manifest.files)) {
    const shown = entries.slice(0, 3).join(', ');
    throw new UserError(
      `--out ${dir}: exists and is not empty (${shown}${entries.length > 3 ? `, ... ${entries.length} entries` : ''}) and holds no synthetic set exp wrote; choose another directory or empty it`,
    );
  }
  // Only plain relative paths inside the folder count: a damaged or hand-edited synth.json naming
  // ../something or /abs/path must not make exp delete files outside it.
  const listed = manifest.files.filter((f): f is string => typeof f === 'string').map((f) => normalize(f));
  const outside = listed.find((f) => isAbsolute(f) || f === '..' || f.startsWith(`..${sep}`));
  if (outside !== undefined)
    throw new UserError(
      `--out ${dir}: its ${SYNTH_MANIFEST} lists ${JSON.stringify(outside)}, outside the folder; exp will not touch it: empty the folder yourself or choose another`,
    );
  const files = new Set<string>([SYNTH_MANIFEST, ...listed]);
  const dirs = new Set<string>();
  for (const f of files) for (let d = dirname(f); d !== '.' && d !== '/' && !dirs.has(d); d = dirname(d)) dirs.add(d);
  return { files, dirs };
}

/** Every file and folder under `dir`, relative to it. */
function listTree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? join(rel, e.name) : e.name;
    out.push(r);
    if (e.isDirectory()) out.push(...listTree(dir, r));
  }
  return out;
}
