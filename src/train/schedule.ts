import type { TrainConfig } from '../config/schema.js';

/**
 * Learning rate of a (0-based) epoch. `cosine` is PyTorch's CosineAnnealingLR stepped once per
 * epoch with T_max = epochs and eta_min = train.etaMin, as both references train (paper-notes).
 */
export function learningRate(cfg: Pick<TrainConfig, 'lr' | 'schedule' | 'etaMin' | 'epochs'>, epoch: number): number {
  if (cfg.schedule === 'constant') return cfg.lr;
  const etaMin = Math.min(cfg.etaMin, cfg.lr);
  return etaMin + ((cfg.lr - etaMin) * (1 + Math.cos((Math.PI * epoch) / cfg.epochs))) / 2;
}
