/**
 * Scoring's Tgram convs (10 s clips) with and without their column matrix, one thread, CPU time:
 * ExpAsdConv1dDirect against ExpAsdIm2col1d + BatchMatMul, alternated, medians of 15 calls each.
 *   node --single-threaded --import tsx bench/conv1d-direct.ts [batch]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { conv1dDirect } from '../src/backend/kernels/conv1d-direct.js';
import { im2col1d } from '../src/backend/kernels/im2col.js';
await initBackend('wasm', { threads: 1 });
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const b = Number(process.argv[2] ?? 8);
const shapes = [
  [b, 160000, 1, 1024, 512, 512, 128],
  [b, 313, 128, 3, 1, 1, 128],
] as const;
for (const [batch, len, cin, k, s, p, co] of shapes) {
  const x = tf.randomUniform([batch, len, cin]) as tf.Tensor3D;
  const w = tf.randomUniform([k, cin, co]) as tf.Tensor3D;
  const runs = { direct: [] as number[], cols: [] as number[] };
  for (let r = 0; r < 15; r++) {
    for (const kind of ['direct', 'cols'] as const) {
      const t0 = cpu();
      const y =
        kind === 'direct'
          ? conv1dDirect(x, w, s, p)
          : tf.tidy(() => tf.matMul(im2col1d(x, k, s, p), w.reshape([k * cin, co])));
      y.dataSync();
      runs[kind].push(cpu() - t0);
      y.dispose();
    }
  }
  const med = (a: number[]) => a.sort((u, v) => u - v)[a.length >> 1]!.toFixed(2);
  console.log(`[${batch},${len},${cin}] k ${k}: direct ${med(runs.direct)} ms, cols ${med(runs.cols)} ms`);
}
