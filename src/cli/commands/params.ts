import type { Command } from 'commander';
import { action, parsePositiveInt } from '../action.js';
import { jsonOption, setOption } from '../options.js';
import { parseOverride } from '../../config/index.js';
import { readExperiment } from '../../parts/experiment.js';
import { countParams, DCASE_CLASSES } from '../../parts/params.js';
import { pluginOption } from '../plugin-option.js';
import { partsHelp } from '../parts-help.js';
import { initBackend } from '../../backend/select.js';

interface ParamsFlags {
  set?: string[];
  json?: boolean;
  classes: number;
  plugin: string[];
}

export function register(program: Command): void {
  const cmd = program
    .command('params')
    .description("trainable parameters per module and total, beside the paper's Table 5")
    .argument('<experiment.yaml>', 'an experiment file, e.g. experiments/fgaspecnet.yaml')
    .addOption(setOption())
    .option('--classes <n>', 'classes of the head (machine IDs)', parsePositiveInt('--classes'), DCASE_CLASSES)
    .addOption(jsonOption('{"total":N,"modules":{"<name>":N,...},...}'))
    .addOption(pluginOption())
    .addHelpText('after', partsHelp)
    .action(action((file: string, flags: ParamsFlags) => runParams(file, flags)));
}

async function runParams(file: string, flags: ParamsFlags): Promise<void> {
  const { config, catalog } = await readExperiment(file, {
    overrides: (flags.set ?? []).map((s) => parseOverride(s)),
    plugins: flags.plugin,
  });
  // Counting builds the weights once; the cpu backend needs no warm-up and no wasm heap.
  await initBackend('cpu');
  const r = countParams(config, flags.classes, catalog);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const width = Math.max(...Object.keys(r.modules).map((k) => k.length), 'total'.length);
  const lines = [
    `${file}: trainable parameters (${r.classes} classes, ${r.input.channels} x ${r.input.nMels} x ${r.input.frames} input)`,
  ];
  for (const [name, n] of Object.entries(r.modules)) lines.push(`  ${name.padEnd(width)}  ${fmt(n).padStart(11)}`);
  let total = `  ${'total'.padEnd(width)}  ${fmt(r.total).padStart(11)}  (${(r.total / 1e6).toFixed(2)} M)`;
  if (r.paper) {
    const pct = (r.paper.gap * 100).toFixed(1);
    const paper =
      r.paper.params >= 1e6 ? `${(r.paper.params / 1e6).toFixed(1)} M` : `${(r.paper.params / 1e3).toFixed(0)} k`;
    total += `   paper Table 5, ${r.paper.system}: ${paper} (${r.paper.gap >= 0 ? '+' : ''}${pct} %)`;
  } else if (r.row !== null) {
    total += `   (${r.row}: the paper's Table 5 gives no parameter count for it)`;
  }
  lines.push(total);
  if (r.perType) {
    lines.push(
      `  one model per ${r.perType.per}: the count above is ${r.perType.type}'s model; all ${r.perType.models} models: ${fmt(r.perType.allModels)}`,
    );
  }
  for (const [name, n] of Object.entries(r.loss))
    lines.push(`  + loss ${name}: ${fmt(n)} (trained with the model, not counted in its total)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
