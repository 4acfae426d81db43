import type { ExperimentConfig } from './schema.js';

/**
 * Keys added to the schema after runs were already stored, each with the value that reproduces
 * what such a run did (not the new default). A stored config keeps its stored hash, which still
 * names the old behaviour; filling these in only lets today's code read it as it ran.
 */
const ADDED: ReadonlyArray<{ key: string; value: unknown }> = [
  // Before etaMinRatio, train.etaMin (always stored) was the absolute floor; it still overrides.
  { key: 'train.etaMinRatio', value: 0.1 },
  // Before dropLast, the last partial batch of an epoch was dropped.
  { key: 'train.dropLast', value: true },
  // Before loss.metric.eps, the SoftTriple centres used AdamW's eps 1e-8.
  { key: 'loss.metric.eps', value: 1e-8 },
  // Before data.synthVersion, the built-in synthetic set was generator version 1.
  { key: 'data.synthVersion', value: 1 },
  // Before glow.training, Glow-Aff was one ID-conditioned flow per machine type.
  { key: 'glow.training', value: 'id-conditioned' },
];

/**
 * A config read back from the store, completed with the keys it predates (see ADDED). A key
 * whose section is absent or null (loss.metric: null) stays absent; nothing else changes.
 */
export function upgradeStoredConfig(stored: unknown): ExperimentConfig {
  const config = structuredClone(stored) as Record<string, unknown>;
  for (const { key, value } of ADDED) {
    const parts = key.split('.');
    let node: unknown = config;
    for (const part of parts.slice(0, -1))
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    if (!node || typeof node !== 'object') continue;
    const leaf = parts[parts.length - 1]!;
    if (!(leaf in node)) (node as Record<string, unknown>)[leaf] = value;
  }
  return config as ExperimentConfig;
}
