import type { TrainConfig } from '../config/schema.js';

type ScheduleConfig = Pick<TrainConfig, 'lr' | 'schedule' | 'etaMin' | 'etaMinRatio' | 'epochs'>;

/**
 * The cosine floor eta_min: train.etaMin when set (an absolute override; configs stored before
 * etaMinRatio existed all hold one), else etaMinRatio * lr, as TASTgram's CosineAnnealingLR
 * (eta_min = 0.1 * lr), so a sweep that changes lr keeps the schedule's shape.
 */
export function etaMinOf(cfg: ScheduleConfig): number {
  const etaMin = cfg.etaMin ?? cfg.etaMinRatio * cfg.lr;
  return Math.min(etaMin, cfg.lr);
}

/**
 * Learning rate of a (0-based) epoch. `cosine` is PyTorch's CosineAnnealingLR stepped once per
 * epoch with T_max = epochs and eta_min = etaMinOf(cfg), as both references train (STgram-MFN's and TASTgram's training scripts).
 */
export function learningRate(cfg: ScheduleConfig, epoch: number): number {
  if (cfg.schedule === 'constant') return cfg.lr;
  const etaMin = etaMinOf(cfg);
  return etaMin + ((cfg.lr - etaMin) * (1 + Math.cos((Math.PI * epoch) / cfg.epochs))) / 2;
}
