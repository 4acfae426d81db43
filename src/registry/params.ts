import type { ExperimentConfig } from '../config/schema.js';
import { buildContainer } from './container.js';
import { LossesFactory, ModelFactory } from './tokens.js';

/** Machine IDs of DCASE 2020 Task 2 (§2.4): the class count of the paper's head. */
export const DCASE_CLASSES = 41;

/** Table 5 of the paper (trainable parameters), keyed by the systems' branch lists. */
export const TABLE5: ReadonlyArray<{ system: string; branches: string; params: number }> = [
  { system: 'STgram-MFN', branches: 'logmel,tgram', params: 1.1e6 },
  { system: 'TASTgram', branches: 'logmel,tgram,tagram', params: 1.2e6 },
  { system: 'FGASpecNet', branches: 'logmel,tgram,tagram,fga-spec', params: 1.3e6 },
];

export interface ParamsReport {
  total: number;
  modules: Record<string, number>;
  /** Weights owned by losses (SoftTriple centres): trained, but not part of the model's count. */
  loss: Record<string, number>;
  classes: number;
  input: { nMels: number; frames: number; channels: number };
  paper: { system: string; params: number; gap: number } | null;
}

/** Builds the configured model (weights only, nothing runs) and counts its trainable scalars. */
export function countParams(config: ExperimentConfig, classes = DCASE_CLASSES): ParamsReport {
  const container = buildContainer(config, { numClasses: classes });
  const model = container.get<ModelFactory>(ModelFactory)();
  const losses = container.get<LossesFactory>(LossesFactory)();
  try {
    const modules = model.paramsByModule();
    const total = model.totalParams();
    const loss: Record<string, number> = {};
    if (losses.metric) {
      let n = 0;
      for (const v of losses.metric.trainable().values()) n += v.size;
      loss[losses.metric.name] = n;
    }
    const row = TABLE5.find((r) => r.branches === config.features.branches.join(','));
    return {
      total,
      modules,
      loss,
      classes,
      input: { nMels: model.clip.nMels, frames: model.clip.frames, channels: model.branches.length },
      paper: row ? { system: row.system, params: row.params, gap: total / row.params - 1 } : null,
    };
  } finally {
    model.dispose();
    if (losses.metric) for (const v of losses.metric.trainable().values()) v.dispose();
  }
}

