import type { PartsApi } from '../registry/catalog.js';
import { createLossRegistries } from './registry.js';

/**
 * The losses (§2.3), registered through the API plug-ins use: `loss.classification.name`,
 * `loss.metric.name`. The list itself is createLossRegistries' (one list, also a public export);
 * their keys are the shared `loss.classification` / `loss.metric` blocks.
 */
export function lossParts(exp: PartsApi): void {
  const { classificationLosses, metricLosses } = createLossRegistries();
  for (const name of classificationLosses.names()) exp.registerClassificationLoss(name, classificationLosses.get(name));
  for (const name of metricLosses.names()) exp.registerMetricLoss(name, metricLosses.get(name));
}
