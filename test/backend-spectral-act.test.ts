import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { rand } from './fixtures/fused-check.js';
import { initBackend } from '../src/backend/select.js';
import { spectralAct, spectralActAvailable } from '../src/backend/kernels/spectral-act.js';
import { setKernelThreads } from '../src/backend/kernels/parallel.js';

/**
 * SpecNet's evaluation-mode spectral activation as one wasm pass (ExpAsdSpectralAct) against the
 * same function as plain ops on tfjs's cpu backend (an independent implementation, its own tanh).
 */

/** zr, zi of the plain ops: Z = C2 tanh(K F + b) with the kernel's packing of w. */
function plain(fr: tf.Tensor, fi: tf.Tensor, w: tf.Tensor2D, bias: tf.Tensor1D): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const [k1, k2, k3, k4, cr, ci] = tf.unstack(w);
    const [br, bi] = tf.unstack(bias);
    const ur = tf.tanh(tf.add(tf.sub(tf.mul(fr, k1!), tf.mul(fi, k2!)), br!));
    const ui = tf.tanh(tf.add(tf.add(tf.mul(fr, k3!), tf.mul(fi, k4!)), bi!));
    return [tf.sub(tf.mul(ur, cr!), tf.mul(ui, ci!)), tf.add(tf.mul(ur, ci!), tf.mul(ui, cr!))];
  });
}

test('the fused spectral activation on wasm equals the plain ops on cpu (tails, several rows, 1-2 threads)', async () => {
  // n = 39: a tail of 3 after the 4-wide columns; n = 8064: the quick configuration's 63 x 128.
  for (const [rows, n] of [
    [3, 39],
    [5, 8064],
    [1, 4],
  ] as const) {
    const data = {
      fr: rand(rows * n, 1, -30, 30),
      fi: rand(rows * n, 2, -30, 30),
      // Pre-activations over tanh's whole range: both of tanh4's branches and its saturation.
      w: rand(6 * n, 3, -0.3, 0.3),
      bias: Float32Array.from([0.7, -0.4]),
    };
    const make = () => ({
      fr: tf.tensor2d(data.fr, [rows, n]),
      fi: tf.tensor2d(data.fi, [rows, n]),
      w: tf.tensor2d(data.w, [6, n]),
      bias: tf.tensor1d(data.bias),
    });
    await initBackend('cpu');
    const c = make();
    const [er, ei] = plain(c.fr, c.fi, c.w, c.bias).map((t) => t.dataSync() as Float32Array) as [
      Float32Array,
      Float32Array,
    ];
    for (const threads of [1, 2]) {
      await initBackend('wasm', { threads: 2 });
      setKernelThreads(threads);
      const x = make();
      assert.ok(spectralActAvailable(x.fr, x.fi, x.w));
      const z = spectralAct(x.fr, x.fi, x.w, x.bias);
      const [gr, gi] = [z.re.dataSync(), z.im.dataSync()] as Float32Array[];
      let worst = 0;
      for (let i = 0; i < rows * n; i++) {
        worst = Math.max(worst, Math.abs(gr![i]! - er[i]!), Math.abs(gi![i]! - ei[i]!));
      }
      // |c2| <= 0.3 and |tanh| <= 1: values up to ~0.6; tanh4 is within 3e-7 of tanh.
      assert.ok(worst <= 2e-6, `rows ${rows}, n ${n}, ${threads} thread(s): max |diff| ${worst}`);
      tf.dispose([x.fr, x.fi, x.w, x.bias, z.re, z.im]);
    }
  }
});
