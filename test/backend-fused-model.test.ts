import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { LAYER_NORM } from '../src/backend/kernels/layernorm.js';
import { COMPLEX_MUL } from '../src/backend/kernels/complex-mul.js';
import { GATED_MIX } from '../src/backend/kernels/gated-mix.js';
import { drift, fmt, stepOn, testConfig } from './webgpu/helpers.js';

/**
 * One training step of the whole FGASpecNet (1 s clips, 4 clips, mixup) on wasm with the fused
 * LayerNorm, complex multiplication and gated mix, against the same step with them unregistered
 * (the model then runs the unfused tfjs ops: the `*Available` checks fail), and against the cpu
 * backend. The fused kernels may only move the numbers by float rounding: the step's loss within
 * 1e-5 relative, the gradients within twice the cpu-vs-wasm difference of the same step (the
 * backends are held to 10x in docs/backend.md).
 */
test('FGASpecNet step: the fused kernels change loss and gradients by rounding only', async (t) => {
  const config = testConfig('fgaspecnet.yaml', []);
  const fused = await stepOn('wasm', config);
  await initBackend('wasm');
  const saved = [LAYER_NORM, COMPLEX_MUL, GATED_MIX].map((name) => tf.getKernel(name, 'wasm')!);
  assert.equal(saved.filter(Boolean).length, 3, 'the fused kernels are registered on wasm');
  for (const k of saved) tf.unregisterKernel(k.kernelName, 'wasm');
  let unfused;
  try {
    unfused = await stepOn('wasm', config);
  } finally {
    for (const k of saved) tf.registerKernel(k);
  }
  const cpu = await stepOn('cpu', config);
  const fusedVsUnfused = drift(fused, unfused);
  const cpuVsUnfused = drift(cpu, unfused);
  t.diagnostic(`fused vs unfused (wasm): ${fmt(fusedVsUnfused)}`);
  t.diagnostic(`cpu vs unfused wasm: ${fmt(cpuVsUnfused)}`);
  // A step that ignored the kernels would read exactly 0 here; they round differently.
  assert.ok(fusedVsUnfused.total > 0, 'the fused kernels ran');
  assert.ok(fusedVsUnfused.loss <= 1e-5, `loss moved by ${fusedVsUnfused.loss}`);
  // Measured: both 7.4e-4 (the FGA-Spec branch amplifies any rounding difference, docs/backend.md).
  assert.ok(
    fusedVsUnfused.total <= 2 * cpuVsUnfused.total + 1e-5,
    `gradients moved by ${fusedVsUnfused.total}, more than cpu vs wasm (${cpuVsUnfused.total})`,
  );
});
