import { dirname, resolve } from 'node:path';
import type { Catalog } from '../registry/catalog.js';
import type { ExperimentConfig as Config } from '../config/schema.js';
import {
  applyOverride,
  loadExperiment as loadWithSchema,
  readExperimentYaml,
  validateExperiment as validateWithSchema,
  type Override,
} from '../config/load.js';
import { UserError } from '../util/errors.js';
import { defaultCatalog } from './builtin.js';
import { loadPluginFiles } from './files.js';

/**
 * The config loader of the library and the CLI: the experiment schema is the one composed from
 * the catalog's parts (built-ins by default, plus any plug-ins), so a part's own section is
 * checked as strictly as the built-in ones.
 */

/**
 * The experiment schema with the built-in parts' sections (system baselines' `ae:`, `glow:`, ...):
 * what `ExperimentConfig.parse` of the package entry has always accepted. With plug-ins, use
 * `catalog.schema()`.
 */
export const ExperimentConfig = defaultCatalog().schema();
export type ExperimentConfig = Config;

/** Validates a raw experiment object against the catalog's schema; errors name the source and the key. */
export function validateExperiment(raw: unknown, source: string, catalog: Catalog = defaultCatalog()): Config {
  return validateWithSchema(raw, source, catalog.schema());
}

/** YAML file + overrides -> validated config, with the catalog's parts (no plug-in files: see readExperiment). */
export function loadExperiment(
  file: string,
  overrides: readonly Override[] = [],
  catalog: Catalog = defaultCatalog(),
): Config {
  return loadWithSchema(file, overrides, catalog.schema());
}

/**
 * The plug-in paths a YAML lists under `plugins:`, resolved against the YAML's folder; the key is
 * removed from `raw` (the config records the loaded files instead).
 */
export function takePluginPaths(raw: Record<string, unknown>, file: string): string[] {
  const list = raw['plugins'];
  delete raw['plugins'];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p === '')) {
    throw new UserError(
      `${file}: plugins: expected a list of plug-in file paths (relative to this file), e.g. plugins: [./my-loss.mjs]`,
    );
  }
  return (list as string[]).map((p) => resolve(dirname(file), p));
}

export interface ReadExperimentOptions {
  overrides?: readonly Override[];
  /** `--plugin` paths, relative to the working directory; loaded after the YAML's `plugins:`. */
  plugins?: readonly string[];
}

/**
 * An experiment YAML with its plug-ins: the files its `plugins:` and `--plugin` name are loaded
 * (their parts and sections join the schema), the config is validated and records each file's
 * path and sha256. Without plug-ins the config is exactly loadExperiment's.
 */
export async function readExperiment(
  file: string,
  opts: ReadExperimentOptions = {},
): Promise<{ config: Config; catalog: Catalog }> {
  const raw = readExperimentYaml(file);
  const paths = takePluginPaths(raw, file);
  const { catalog, refs } = await loadPluginFiles([...paths, ...(opts.plugins ?? [])]);
  const overrides = opts.overrides ?? [];
  for (const o of overrides) applyOverride(raw, o);
  if (refs.length > 0) raw['plugins'] = refs;
  const source = overrides.length > 0 ? `${file} (with --set ${overrides.map((o) => o.key).join(', ')})` : file;
  return { config: validateExperiment(raw, source, catalog), catalog };
}
