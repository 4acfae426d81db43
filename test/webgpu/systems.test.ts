import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireWebgpu, stepOn, testConfig, drift, fmt } from './helpers.js';

/**
 * Every built-in system takes a training step on the WebGPU device (lavapipe in CI), and its loss
 * and gradients match the same step on wasm. The wasm-vs-cpu difference of the same step is
 * measured beside it: float32 kernels that sum in a different order differ by rounding, and a
 * model amplifies rounding differently, so the bar is the reference backends' own disagreement.
 *
 * Tolerance (docs/backend.md, "Correctness"): the loss within 1e-4 relative; all gradients
 * together within 1e-2 relative (||g_webgpu - g_wasm|| / ||g_wasm||), and no more than 10x the
 * wasm-vs-cpu difference plus 1e-4. Measured on lavapipe: see the printed lines.
 *
 * Sizes are cut down (1 s clips, 4 clips, Glow 2 levels x 2 steps, narrow MobileNetV2) so the
 * whole file stays within minutes on lavapipe; the kernels are the full models' kinds.
 */
const SYSTEMS: Array<[string, string, string[]]> = [
  ['FGASpecNet', 'fgaspecnet.yaml', []],
  ['STgram-MFN', 'stgram-mfn.yaml', []],
  ['TASTgram', 'tastgram.yaml', []],
  ['AE', 'ae.yaml', []],
  ['IDNN', 'idnn.yaml', []],
  [
    'MobileNetV2',
    'mobilenetv2.yaml',
    ['mobilenetv2.width=0.35', 'mobilenetv2.lastChannels=64', 'mobilenetv2.window=32', 'mobilenetv2.hop=16'],
  ],
  ['Glow-Aff', 'glow-aff.yaml', ['glow.levels=2', 'glow.steps=2', 'glow.hidden=16']],
];

const LOSS_TOL = 1e-4;
const GRAD_TOL = 1e-2;

test('the WebGPU device is there (fails, never skips, without it)', async () => {
  const info = await requireWebgpu();
  assert.equal(info.backend, 'webgpu');
  assert.ok(info.gpu, 'the adapter is described');
  process.stderr.write(
    `# ${info.gpu.description} (${info.gpu.vendor}, ${info.gpu.architecture}), binding limit ${info.gpu.bindingLimit}\n`,
  );
});

for (const [name, file, sets] of SYSTEMS) {
  test(`${name}: one training step on webgpu matches wasm (loss and every gradient), beside wasm vs cpu`, async () => {
    await requireWebgpu();
    const config = testConfig(file, sets);
    const wasm = await stepOn('wasm', config);
    const cpu = await stepOn('cpu', config);
    const gpu = await stepOn('webgpu', config);
    const dg = drift(gpu, wasm);
    const dc = drift(cpu, wasm);
    process.stderr.write(
      `# ${name}: webgpu vs wasm ${fmt(dg)}\n#   ${' '.repeat(name.length)}cpu vs wasm    ${fmt(dc)}\n`,
    );
    assert.ok(Number.isFinite(gpu.loss) && gpu.loss !== 0, `loss ${gpu.loss}`);
    assert.ok(dg.loss <= LOSS_TOL, `${name} loss: ${fmt(dg)}`);
    assert.ok(dg.total <= GRAD_TOL, `${name} gradients: ${fmt(dg)}`);
    assert.ok(
      dg.total <= 10 * dc.total + 1e-4,
      `${name} gradients drift more than 10x wasm vs cpu: ${fmt(dg)} / ${fmt(dc)}`,
    );
  });
}
