import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExperimentConfig, PluginRef } from '../config/schema.js';
import type { Catalog, Plugin } from '../registry/catalog.js';
import { UserError, isUserError, messageOf } from '../util/errors.js';
import { defaultCatalog } from './builtin.js';

/**
 * Plug-in files (`--plugin PATH`, `plugins:` in a YAML): ES modules that default-export (or export
 * `register`) a function receiving the registration API. Each is recorded with the runs it
 * builds as its absolute path and the sha256 of its bytes, so a resume, a child trainer or a
 * worker on another host loads the same code, or refuses with one line.
 */

export interface LoadedPlugins {
  /** The built-in parts plus the plug-ins' parts. */
  catalog: Catalog;
  /** What the configs built with them record (empty without plug-ins). */
  refs: PluginRef[];
}

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads a plug-in file: its bytes' hash, or a user error naming the path. */
function readPlugin(path: string, why: string): { bytes: Buffer; sha256: string } {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`plug-in ${path}: file not found${why}`);
  const bytes = readFileSync(path);
  return { bytes, sha256: sha256Of(bytes) };
}

/** The plug-in function a module exports, imported once per content (the hash is in the URL). */
const imported = new Map<string, Promise<Plugin>>();

function importPlugin(path: string, sha256: string): Promise<Plugin> {
  const key = `${path}\0${sha256}`;
  let p = imported.get(key);
  if (!p) {
    p = (async () => {
      let mod: { default?: unknown; register?: unknown };
      try {
        mod = (await import(`${pathToFileURL(path).href}?sha256=${sha256}`)) as typeof mod;
      } catch (e) {
        throw new UserError(`plug-in ${path}: cannot be imported: ${messageOf(e).split('\n')[0]}`);
      }
      const fn = typeof mod.default === 'function' ? mod.default : mod.register;
      if (typeof fn !== 'function') {
        throw new UserError(
          `plug-in ${path}: expected a default export (or an export named register) that is a function receiving the registration API, e.g. export default function (exp) { exp.registerLoss('focal', { schema, create }) }`,
        );
      }
      return fn as Plugin;
    })();
    imported.set(key, p);
  }
  return p;
}

/** Adds one plug-in's parts to `catalog`; its own errors become one line naming the file. */
async function applyPlugin(catalog: Catalog, ref: PluginRef): Promise<void> {
  const plugin = await importPlugin(ref.path, ref.sha256);
  try {
    catalog.use(plugin, ref.path);
  } catch (e) {
    throw isUserError(e)
      ? e
      : new UserError(`plug-in ${ref.path}: failed while registering its parts: ${messageOf(e).split('\n')[0]}`);
  }
}

/** Loads plug-in files (paths as given, relative to `cwd`) on top of the built-in parts. */
export async function loadPluginFiles(paths: readonly string[], cwd = process.cwd()): Promise<LoadedPlugins> {
  const unique = [...new Set(paths.map((p) => resolve(cwd, p)))];
  if (unique.length === 0) return { catalog: defaultCatalog(), refs: [] };
  const catalog = defaultCatalog().clone();
  const refs: PluginRef[] = [];
  for (const path of unique) {
    const ref = { path, sha256: readPlugin(path, '').sha256 };
    await applyPlugin(catalog, ref);
    refs.push(ref);
  }
  return { catalog, refs };
}

const catalogs = new Map<string, Promise<Catalog>>();

/**
 * The catalog a stored or received config was built with: the built-ins plus its recorded
 * plug-ins, each checked against the recorded hash on every call (the files are read again; the
 * modules are imported once per content). A missing or changed file is a user error: nothing is
 * trained with code other than what the run records.
 */
export async function catalogFor(config: Pick<ExperimentConfig, 'plugins'>, run?: string): Promise<Catalog> {
  const refs = config.plugins ?? [];
  if (refs.length === 0) return defaultCatalog();
  const whose = run ? `run ${run}` : 'the run';
  for (const ref of refs) {
    const { sha256 } = readPlugin(ref.path, ` on ${hostname()} (${whose} was made with it; copy it to that path)`);
    if (sha256 !== ref.sha256) {
      throw new UserError(
        `plug-in ${ref.path}: its content differs from what ${whose} was made with (sha256 ${sha256.slice(0, 12)} here, ${ref.sha256.slice(0, 12)} recorded); restore that version, or start a new run`,
      );
    }
  }
  const key = refs.map((r) => `${r.path}\0${r.sha256}`).join('\n');
  let p = catalogs.get(key);
  if (!p) {
    p = (async () => {
      const catalog = defaultCatalog().clone();
      for (const ref of refs) await applyPlugin(catalog, ref);
      return catalog;
    })();
    p.catch(() => catalogs.delete(key));
    catalogs.set(key, p);
  }
  return p;
}
