import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { conv1dDirect, conv1dDirectAvailable } from '../src/backend/kernels/conv1d-direct.js';
import { im2col1d } from '../src/backend/kernels/im2col.js';
import { setKernelThreads } from '../src/backend/kernels/parallel.js';
import { conv1dGraph } from '../src/model/nn.js';

/**
 * The evaluation-mode 1-D conv without columns (ExpAsdConv1dDirect) against the columns and the
 * product training runs on wasm (the same bits), and against tfjs ops on the cpu backend.
 */

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

// [batch, len, cin, k, stride, pad, cout]: Tgram's k 3 convs (K = 192 > one 128-row chunk of the
// product, enough rows for several chunks over 2 threads), its front conv's shape scaled down
// (cin 1, k 2 strides, a last window that ends past the clip), a clip shorter than the kernel (every
// output a border), no padding, a stride that does not divide k.
const CASES = [
  [2, 400, 64, 3, 1, 1, 24],
  [3, 203, 1, 16, 8, 8, 16],
  [2, 5, 3, 8, 4, 4, 8],
  [2, 40, 5, 3, 1, 0, 8],
  [2, 61, 4, 5, 2, 2, 16],
] as const;

test('the direct 1-D conv gives the bits of the columns and product, and the cpu graph within rounding', async () => {
  for (const [batch, len, cin, k, stride, pad, cout] of CASES) {
    const xs = rand(batch * len * cin, 1 + len);
    const ws = rand(k * cin * cout, 2 + k);
    await initBackend('cpu');
    const want = tf.tidy(() =>
      conv1dGraph(tf.tensor3d(xs, [batch, len, cin]), tf.tensor3d(ws, [k, cin, cout]), stride, pad).dataSync(),
    ) as Float32Array;
    for (const threads of [1, 2]) {
      await initBackend('wasm', { threads: 2 });
      setKernelThreads(threads);
      const x = tf.tensor3d(xs, [batch, len, cin]);
      const w = tf.tensor3d(ws, [k, cin, cout]);
      assert.ok(conv1dDirectAvailable(x, w));
      const got = tf.tidy(() => conv1dDirect(x, w, stride, pad).dataSync()) as Float32Array;
      const what = `[${batch},${len},${cin}] k ${k} s ${stride} p ${pad} -> ${cout}, ${threads} thread(s)`;
      assert.equal(got.length, want.length, what);
      if (k % stride === 0) {
        const cols = tf.tidy(() => tf.matMul(im2col1d(x, k, stride, pad), w.reshape([k * cin, cout])).dataSync());
        assert.deepEqual(Array.from(got), Array.from(cols as Float32Array), `${what}: not the bits of the columns`);
      }
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      // Sums of up to 192 products of values in [-0.5, 0.5]: float32 rounding stays far below this.
      assert.ok(worst <= 2e-5, `${what}: max |diff| ${worst} against the cpu graph`);
      tf.dispose([x, w]);
    }
  }
});
