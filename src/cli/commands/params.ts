import type { Command } from 'commander';
import { action, collect, parsePositiveInt } from '../action.js';
import { loadExperiment, parseOverride, type ExperimentConfig } from '../../config/index.js';
import { buildContainer } from '../../registry/container.js';
import { LossesFactory, ModelFactory } from '../../registry/tokens.js';

/** Machine IDs of DCASE 2020 Task 2 (§2.4): the class count of the paper's head. */
const DCASE_CLASSES = 41;

/** Table 5 of the paper (trainable parameters), keyed by the systems' branch lists. */
const TABLE5: ReadonlyArray<{ system: string; branches: string; params: number }> = [
  { system: 'STgram-MFN', branches: 'logmel,tgram', params: 1.1e6 },
  { system: 'TASTgram', branches: 'logmel,tgram,tagram', params: 1.2e6 },
  { system: 'FGASpecNet', branches: 'logmel,tgram,tagram,fga-spec', params: 1.3e6 },
];

interface ParamsFlags {
  set?: string[];
  json?: boolean;
  classes: number;
}

export interface ParamsReport {
  total: number;
  modules: Record<string, number>;
  /** Weights owned by losses (SoftTriple centres): trained, but not part of the model's count. */
  loss: Record<string, number>;
  classes: number;
  input: { nMels: number; frames: number; channels: number };
  paper: { system: string; params: number; gap: number } | null;
}

export function register(program: Command): void {
  program
    .command('params')
    .description("trainable parameters per module and total, beside the paper's Table 5")
    .argument('<experiment.yaml>', 'an experiment file, e.g. experiments/fgaspecnet.yaml')
    .option('--set <key=value>', 'override an experiment key (repeatable)', collect)
    .option('--classes <n>', 'classes of the head (machine IDs)', parsePositiveInt('--classes'), DCASE_CLASSES)
    .option('--json', 'print {"total":N,"modules":{"<name>":N,...},...}')
    .action(action((file: string, flags: ParamsFlags) => runParams(file, flags)));
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

function runParams(file: string, flags: ParamsFlags): void {
  const config = loadExperiment(file, (flags.set ?? []).map((s) => parseOverride(s)));
  const r = countParams(config, flags.classes);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const width = Math.max(...Object.keys(r.modules).map((k) => k.length), 'total'.length);
  const lines = [`${file}: trainable parameters (${r.classes} classes, ${r.input.channels} x ${r.input.nMels} x ${r.input.frames} input)`];
  for (const [name, n] of Object.entries(r.modules)) lines.push(`  ${name.padEnd(width)}  ${fmt(n).padStart(11)}`);
  let total = `  ${'total'.padEnd(width)}  ${fmt(r.total).padStart(11)}  (${(r.total / 1e6).toFixed(2)} M)`;
  if (r.paper) {
    const pct = (r.paper.gap * 100).toFixed(1);
    total += `   paper Table 5, ${r.paper.system}: ${(r.paper.params / 1e6).toFixed(1)} M (${r.paper.gap >= 0 ? '+' : ''}${pct} %)`;
  }
  lines.push(total);
  for (const [name, n] of Object.entries(r.loss)) lines.push(`  + loss ${name}: ${fmt(n)} (trained with the model, not counted in its total)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
