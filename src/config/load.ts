import { readFileSync, existsSync, statSync } from 'node:fs';
import { LineCounter, parse as parseYaml, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ExperimentConfig } from './schema.js';
import { UserError } from '../util/errors.js';
import { withFsErrors } from '../util/fs-errors.js';
import { checkName } from '../util/names.js';

/** A `--set key=value` override: dotted key of the experiment YAML, value parsed as a YAML scalar or list. */
export interface Override {
  key: string;
  value: unknown;
}

export function parseOverride(text: string, source = '--set'): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`${source} ${JSON.stringify(text)}: expected key=value, e.g. train.epochs=20`);
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYaml(raw === '' ? '""' : raw);
  } catch {
    throw new UserError(`${source} ${key}: cannot parse value ${JSON.stringify(raw)} as YAML`);
  }
  return { key, value };
}

/**
 * Key names that reach Object.prototype (or a constructor) when used as a property name: a
 * `--set __proto__.x=1` would otherwise change every object in the process.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Sets a dotted key inside a plain object, creating intermediate objects. */
export function applyOverride(target: Record<string, unknown>, { key, value }: Override): void {
  const parts = key.split('.');
  const bad = parts.find((p) => FORBIDDEN_KEYS.has(p));
  if (bad !== undefined) throw new UserError(`--set ${key}: "${bad}" is not allowed as a key name`);
  if (parts.some((p) => p === ''))
    throw new UserError(`--set ${key}: empty key name (expected dotted keys such as train.epochs)`);
  let node: Record<string, unknown> = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined || next === null) node[part] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) {
      throw new UserError(`--set ${key}: ${part} is not a section (it holds ${JSON.stringify(next)})`);
    }
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Experiment and sweep files are a few KiB; anything this large is a mistake (a data file given by accident). */
export const MAX_YAML_BYTES = 4 * 1024 * 1024;
/** Aliases the YAML reader expands before it calls the file an alias bomb ("billion laughs"). */
export const MAX_YAML_ALIASES = 1000;

/**
 * Reads an experiment or sweep YAML file into a plain value. Every problem is one line naming the
 * file (and line:column when the parser knows it): a syntax error, a file over MAX_YAML_BYTES, an
 * alias bomb. Merge keys (`<<: *base`) work. Top-level keys starting with `x-` are dropped after
 * parsing: a place for anchors that are only merged elsewhere (as in Compose files).
 */
export function readYamlFile(file: string): unknown {
  if (!existsSync(file)) throw new UserError(`${file}: file not found`);
  const size = withFsErrors(file, 'cannot read the YAML file', () => statSync(file).size);
  if (size > MAX_YAML_BYTES)
    throw new UserError(
      `${file}: ${size} bytes is too large for an experiment or sweep YAML file (at most ${MAX_YAML_BYTES})`,
    );
  const text = withFsErrors(file, 'cannot read the YAML file', () => readFileSync(file, 'utf8'));
  const value = parseYamlText(text, file);
  const bad = forbiddenKeyPath(value);
  if (bad !== null) throw new UserError(`${file}: key ${bad}: "${bad.split('.').pop()}" is not allowed as a key name`);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const k of Object.keys(value)) if (k.startsWith('x-')) delete (value as Record<string, unknown>)[k];
  }
  return value;
}

/** YAML text -> plain value; errors are one line, "<source>:<line>:<column>: invalid YAML: <what>". */
export function parseYamlText(text: string, source: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, merge: true, lineCounter: lines });
  const e = doc.errors[0];
  if (e) {
    const at = lines.linePos(e.pos[0]);
    throw new UserError(`${source}${at ? `:${at.line}:${at.col}` : ''}: invalid YAML: ${firstLine(e.message)}`);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? {};
  } catch (err) {
    // The yaml package throws a ReferenceError for an alias bomb (a billion-laughs document).
    throw new UserError(
      `${source}: invalid YAML: ${firstLine(err instanceof Error ? err.message : String(err))} (its aliases expand past the limit of ${MAX_YAML_ALIASES}: an alias bomb?)`,
    );
  }
}

const firstLine = (s: string): string =>
  s
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();

/** The dotted path of the first key named __proto__ / constructor / prototype, or null. */
function forbiddenKeyPath(value: unknown, path: string[] = []): string | null {
  if (typeof value !== 'object' || value === null) return null;
  for (const [k, v] of Object.entries(value)) {
    const here = [...path, k];
    if (FORBIDDEN_KEYS.has(k) || k.split('.').some((p) => FORBIDDEN_KEYS.has(p))) return here.join('.');
    const deeper = forbiddenKeyPath(v, here);
    if (deeper !== null) return deeper;
  }
  return null;
}

/** Formats zod issues as "file: key.path: what was expected", joined with "; " into the one line a user error is. */
export function formatIssues(source: string, error: z.ZodError): string {
  const issues = error.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys')
      return `unknown key ${issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', ')}`;
    return `${path || '(top level)'}: ${issue.message}`;
  });
  return `${source}: ${issues.join('; ')}`;
}

/**
 * Validates a raw experiment object; errors name the source and the key. `schema`: the one
 * composed from the registered parts (src/parts/experiment.ts passes the catalog's); by default
 * the built-in sections alone.
 */
export function validateExperiment(
  raw: unknown,
  source: string,
  schema: z.ZodType<ExperimentConfig, unknown> = ExperimentConfig,
): ExperimentConfig {
  const result = schema.safeParse(raw ?? {});
  if (!result.success) throw new UserError(formatIssues(source, result.error));
  checkName(result.data.name, `${source}: name`);
  return result.data;
}

/** YAML file + overrides -> validated, typed config (the first step of the data flow). */
export function loadExperiment(
  file: string,
  overrides: readonly Override[] = [],
  schema: z.ZodType<ExperimentConfig, unknown> = ExperimentConfig,
): ExperimentConfig {
  const copy = readExperimentYaml(file);
  for (const o of overrides) applyOverride(copy, o);
  const source = overrides.length > 0 ? `${file} (with --set ${overrides.map((o) => o.key).join(', ')})` : file;
  return validateExperiment(copy, source, schema);
}

/** An experiment YAML as a plain mapping (a copy: the caller may change it). */
export function readExperimentYaml(file: string): Record<string, unknown> {
  const raw = readYamlFile(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${file}: expected a mapping of experiment keys at the top level`);
  }
  return structuredClone(raw) as Record<string, unknown>;
}
