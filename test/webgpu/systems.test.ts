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
 * together within 1e-2 relative (||g_webgpu - g_wasm|| / ||g_wasm||), and no more than 10x plus
 * 1e-4 the larger of the wasm-vs-cpu difference and what rounding-sized input changes do on wasm.
 * Measured on lavapipe: see the printed lines.
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
    // What rounding-sized changes do on the reference backend alone: the inputs times
    // (1 +- 1.2e-7), three draws. A unit whose PReLU input sits within rounding of 0 flips its
    // slope with the rounding (docs/backend.md, Correctness), so whether cpu vs wasm happens to
    // cross it is luck; the bar is the larger of the two. (Before the webgpu step: switching back
    // from webgpu would read its tensors synchronously.)
    const perturbed = [];
    for (const seed of [1, 2, 3]) perturbed.push(drift(await stepOn('wasm', config, 2 ** -23, seed), wasm).total);
    const gpu = await stepOn('webgpu', config);
    const dg = drift(gpu, wasm);
    const dc = drift(cpu, wasm);
    const rounding = Math.max(dc.total, ...perturbed);
    process.stderr.write(
      `# ${name}: webgpu vs wasm ${fmt(dg)}\n#   ${' '.repeat(name.length)}cpu vs wasm    ${fmt(dc)}\n#   ${' '.repeat(name.length)}wasm, inputs x (1 +- 1.2e-7): ${perturbed.map((x) => x.toExponential(1)).join(', ')}\n`,
    );
    assert.ok(Number.isFinite(gpu.loss) && gpu.loss !== 0, `loss ${gpu.loss}`);
    assert.ok(dg.loss <= LOSS_TOL, `${name} loss: ${fmt(dg)}`);
    assert.ok(dg.total <= GRAD_TOL, `${name} gradients: ${fmt(dg)}`);
    assert.ok(
      dg.total <= 10 * rounding + 1e-4,
      `${name} gradients drift more than 10x what rounding does on wasm (${rounding.toExponential(1)}): ${fmt(dg)} / ${fmt(dc)}`,
    );
  });
}
