/**
 * SpecNet's branch alone on wasm (the 2-D DFT of src/model/dft.ts, the Fourier convolutions, the
 * spectral BatchNorms): CPU ms per training step (forward + the weights' gradients) and per folded
 * inference call, for each batch x mels x frames shape.
 *   node --single-threaded --import tsx bench/specnet.ts [--shapes 16x128x63,4x128x313] [--threads 1] [--reps 20] [--plain]
 * --plain unregisters the DFT glue kernels (src/backend/kernels/dft-glue.ts), so the plain-op
 * graph runs: their effect alone. CPU time of the process, so one thread stays comparable on a
 * loaded machine; run it alternately on two trees for before / after pairs.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { SpecNetBranch } from '../src/model/branches/specnet.js';
import type { ModelInputs } from '../src/model/types.js';
import {
  dftFoldConfig,
  dftFoldGradConfig,
  dftMirrorConfig,
  dftMirrorGradConfig,
} from '../src/backend/kernels/dft-glue.js';

const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: '16x128x63,4x128x313' },
    threads: { type: 'string', default: '1' },
    reps: { type: 'string', default: '20' },
    plain: { type: 'boolean', default: false },
  },
});
await initBackend('wasm', { threads: Number(values.threads) });
if (values.plain) {
  for (const k of [dftMirrorConfig, dftMirrorGradConfig, dftFoldConfig, dftFoldGradConfig]) {
    if (tf.getKernel(k.kernelName, 'wasm')) tf.unregisterKernel(k.kernelName, 'wasm');
  }
}
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Mean CPU ms per call of `f` over `n` calls after 3 warm-up calls. */
function time(f: () => void, n: number): number {
  for (let i = 0; i < 3; i++) f();
  const t0 = cpuMs();
  for (let i = 0; i < n; i++) f();
  return (cpuMs() - t0) / n;
}

for (const shape of values.shapes.split(',')) {
  const [b, m, t] = shape.split('x').map(Number) as [number, number, number];
  const clip = { sampleRate: 16000, samples: (t - 1) * 512, hop: 512, nMels: m, frames: t };
  const net = new SpecNetBranch('specnet', 3, clip);
  const inputs: ModelInputs = {
    wave: tf.zeros([b, clip.samples]) as tf.Tensor2D,
    logmel: tf.randomNormal([b, m, t], 0, 1, 'float32', 1) as tf.Tensor3D,
  };
  const vars = [...net.trainable()].map(([, v]) => v);
  const train = () =>
    tf.tidy(() => {
      const loss = () => tf.sum(tf.square(net.apply(inputs, { training: true, updates: [] }))) as tf.Scalar;
      const { value, grads } = tf.variableGrads(loss, vars);
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
    });
  const folded = net.fold();
  const infer = () => tf.tidy(() => void folded.apply(inputs).dataSync());
  const n = Number(values.reps);
  console.log(
    `${shape}${values.plain ? ' (plain ops)' : ''}: training step ${time(train, n).toFixed(2)} ms, ` +
      `inference ${time(infer, n).toFixed(2)} ms (CPU time per call, ${values.threads} thread(s))`,
  );
  folded.dispose();
  net.dispose();
  tf.dispose([inputs.wave, inputs.logmel]);
}
