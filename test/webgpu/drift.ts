/**
 * Where FGASpecNet's gradient drift between backends comes from (docs/backend.md, Correctness):
 * one training step of FGASpecNet with subsets of its branches, on wasm and cpu (and webgpu with
 * --webgpu), same weights and clips, plus the same step on wasm with its inputs perturbed by
 * float32-rounding-sized amounts (1.2e-7 relative). Prints one markdown row per variant:
 * relative gradient differences ||g_a - g_b|| / ||g_b|| over all gradients.
 *   node --import tsx test/webgpu/drift.ts [--webgpu]
 * With --params: the full FGASpecNet's cpu-vs-wasm difference parameter by parameter, in the
 * network's order (where a unit crossing its kink shows as the layer before which every gradient
 * differs and after which every gradient agrees to rounding).
 * A measurement, not a test (about 2 minutes on wasm and cpu).
 */
import { parseArgs } from 'node:util';
import { drift, stepOn, testConfig } from './helpers.js';

const { values } = parseArgs({
  options: { webgpu: { type: 'boolean', default: false }, params: { type: 'boolean', default: false } },
});

if (values.params) {
  const config = testConfig('fgaspecnet.yaml', []);
  const wasm = await stepOn('wasm', config);
  const cpu = await stepOn('cpu', config);
  for (const [name, g] of wasm.grads) {
    const o = cpu.grads.get(name)!;
    let d = 0;
    let n = 0;
    for (let i = 0; i < g.length; i++) {
      d += (o[i]! - g[i]!) ** 2;
      n += g[i]! ** 2;
    }
    process.stdout.write(`${name.padEnd(48)} ${Math.sqrt(d / n).toExponential(1)}\n`);
  }
  process.exit(0);
}

const VARIANTS: Array<[string, string, string[]]> = [
  ['log-Mel + Tgram (STgram-MFN)', 'fgaspecnet.yaml', ['features.branches=[logmel,tgram]']],
  ['+ TAgram (TASTgram)', 'fgaspecnet.yaml', ['features.branches=[logmel,tgram,tagram]']],
  ['+ FGA-Spec, no TAgram', 'fgaspecnet.yaml', ['features.branches=[logmel,tgram,fga-spec]']],
  ['FGASpecNet (all four)', 'fgaspecnet.yaml', []],
];

const e = (x: number) => x.toExponential(1);
const head = ['branches', 'cpu vs wasm', 'wasm, inputs x (1 +- 1.2e-7) vs wasm, 3 draws'];
if (values.webgpu) head.push('webgpu vs wasm');
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
for (const [name, file, sets] of VARIANTS) {
  const config = testConfig(file, sets);
  const wasm = await stepOn('wasm', config);
  const cells = [name, e(drift(await stepOn('cpu', config), wasm).total)];
  // Three draws of the perturbation: their spread shows whether the gradient moves smoothly with
  // the inputs (similar sizes) or jumps at kinks (ReLU-like units, margins) that a draw crosses.
  const draws: number[] = [];
  for (const seed of [1, 2, 3]) draws.push(drift(await stepOn('wasm', config, 2 ** -23, seed), wasm).total);
  cells.push(draws.map(e).join(', '));
  if (values.webgpu) cells.push(e(drift(await stepOn('webgpu', config), wasm).total));
  lines.push(`| ${cells.join(' | ')} |`);
  process.stderr.write(`${name}: done\n`);
}
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(0);
