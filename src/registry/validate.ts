import type { ContainerModule } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import { buildContainer } from './container.js';
import { UserError } from '../util/errors.js';
import {
  BackboneRegistry, BranchRegistry, ClassificationLossRegistry, FusionRegistry, HeadRegistry, MetricLossRegistry,
} from './tokens.js';

/**
 * Checks every registry name of a config without building any weights, so a misspelt name is a
 * user error before a run is created in the store (not a failed run left behind).
 */
export function checkRegistryNames(config: ExperimentConfig, extraModules: readonly ContainerModule[] = []): void {
  const c = buildContainer(config, { numClasses: 1, extraModules });
  const branches = c.get<BranchRegistry>(BranchRegistry);
  config.features.branches.forEach((n, i) => branches.get(n, `features.branches[${i}]`));
  c.get<FusionRegistry>(FusionRegistry).get(config.model.fusion, 'model.fusion');
  c.get<BackboneRegistry>(BackboneRegistry).get(config.model.backbone, 'model.backbone');
  c.get<HeadRegistry>(HeadRegistry).get(config.model.head, 'model.head');
  if (!config.loss.classification) {
    throw new UserError('loss.classification: null is not allowed; the anomaly score (§3.1) is read from the ArcFace head it trains');
  }
  c.get<ClassificationLossRegistry>(ClassificationLossRegistry).get(config.loss.classification.name, 'loss.classification.name');
  if (config.loss.metric) c.get<MetricLossRegistry>(MetricLossRegistry).get(config.loss.metric.name, 'loss.metric.name');
}
