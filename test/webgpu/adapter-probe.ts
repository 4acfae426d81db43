/**
 * A fresh process for test/webgpu/adapter.test.ts (each WebGPU choice is made once per process):
 *   hardware  what `--backend auto` asks Dawn for (a hardware adapter only): prints the outcome
 *   webgpu    initBackend('webgpu') (the adapter from EXP_WEBGPU_ADAPTER, if set), then one small
 *             computation on the device: prints the adapter
 * One JSON line on stdout.
 */
import * as tf from '@tensorflow/tfjs';
import { initWebGpu } from '../../src/backend/webgpu.js';
import { initBackend } from '../../src/backend/select.js';

const mode = process.argv[2];
if (mode === 'hardware') {
  const outcome = await initWebGpu({ requireHardware: true });
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
} else if (mode === 'webgpu') {
  const info = await initBackend('webgpu');
  const t = tf.tidy(() => tf.sum(tf.mul(tf.range(0, 100), 2)));
  const sum = (await t.data())[0];
  t.dispose();
  process.stdout.write(`${JSON.stringify({ gpu: info.gpu, sum })}\n`);
} else {
  throw new Error(`adapter-probe: unknown mode ${String(mode)}`);
}
// Dawn keeps the process alive while its GPU object exists.
process.exit(0);
