import { parseOverride } from '../../config/index.js';
import { readExperiment } from '../../parts/experiment.js';
import { countParams } from '../../parts/params.js';
import { initBackend } from '../../backend/select.js';

/** `exp params`'s flags as commander gives them; params.ts declares them and imports this module when the command runs. */
export interface ParamsFlags {
  set?: string[];
  json?: boolean;
  classes: number;
  plugin: string[];
}

export async function runParams(file: string, flags: ParamsFlags): Promise<void> {
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
