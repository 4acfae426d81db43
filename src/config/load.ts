import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml, parseDocument } from 'yaml';
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
  if (parts.some((p) => p === '')) throw new UserError(`--set ${key}: empty key name (expected dotted keys such as train.epochs)`);
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

/** Reads a YAML file into a plain value; a syntax error names the file and line. */
export function readYamlFile(file: string): unknown {
  if (!existsSync(file)) throw new UserError(`${file}: file not found`);
  const text = withFsErrors(file, 'cannot read the YAML file', () => readFileSync(file, 'utf8'));
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
    throw new UserError(`${file}${where}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS() ?? {};
  const bad = forbiddenKeyPath(value);
  if (bad !== null) throw new UserError(`${file}: key ${bad}: "${bad.split('.').pop()}" is not allowed as a key name`);
  return value;
}

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

/** Formats zod issues as "file: key.path: what was expected", one line each. */
export function formatIssues(source: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
        return `${source}: unknown key ${keys.join(', ')}`;
      }
      return `${source}: ${path || '(top level)'}: ${issue.message}`;
    })
    .join('\n');
}

/** Validates a raw experiment object; errors name the source and the key. */
export function validateExperiment(raw: unknown, source: string): ExperimentConfig {
  const result = ExperimentConfig.safeParse(raw ?? {});
  if (!result.success) throw new UserError(formatIssues(source, result.error));
  checkName(result.data.name, `${source}: name`);
  return result.data;
}

/** YAML file + overrides -> validated, typed config (the first step of the data flow). */
export function loadExperiment(file: string, overrides: readonly Override[] = []): ExperimentConfig {
  const raw = readYamlFile(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${file}: expected a mapping of experiment keys at the top level`);
  }
  const copy = structuredClone(raw) as Record<string, unknown>;
  for (const o of overrides) applyOverride(copy, o);
  const source = overrides.length > 0 ? `${file} (with --set ${overrides.map((o) => o.key).join(', ')})` : file;
  return validateExperiment(copy, source);
}
