import { createHash } from 'node:crypto';
import type { ExperimentConfig } from './schema.js';

/**
 * Canonical JSON: keys sorted at every depth, numbers in their shortest round-trip form
 * (so 1e-4 and 0.0001 hash alike), -0 as 0. Run identity in the store and in sweeps.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return JSON.stringify(String(value));
    return JSON.stringify(Object.is(value, -0) ? 0 : value);
  }
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** A short content digest of any JSON value (canonicalJson, SHA-256, 16 hex digits). */
export function configHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/**
 * A run's identity in the store and in sweeps, computed here only (a sweep's trials by
 * src/sweep/spec.ts, which the store then records as given; a single run by the store): the
 * config hash, leaving out `data.synthVersion`
 * where it changes nothing that was hashed before it existed (version 1, or a real dataset root,
 * where no generator runs). So runs stored before the key keep their hash and sweeps resume them.
 */
export function experimentHash(config: ExperimentConfig): string {
  return configHash(hashedForm(config));
}

/**
 * What the identity hash covers. Plug-in files count by content only (their sha256, in load
 * order): the same file at another path, on another host, is the same experiment; an edited file
 * is not. A config without plug-ins has no such key, so its hash is what it always was.
 */
function hashedForm(config: ExperimentConfig): unknown {
  const plugins = config.plugins ? { plugins: config.plugins.map((p) => p.sha256) } : {};
  const data = config.data as Partial<ExperimentConfig['data']> | undefined;
  if (!data) return { ...config, ...plugins };
  const generated = data.root === null || data.root === undefined;
  if (generated && data.synthVersion !== undefined && data.synthVersion !== 1) return { ...config, ...plugins };
  const { synthVersion: _v, ...rest } = data;
  return { ...config, ...plugins, data: rest };
}
