import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import type { WasmBackend } from '../src/backend/kernels/wasm-util.js';

/**
 * Past 2 GB of wasm heap, Emscripten's malloc returns negative int32 offsets. Batch 16 of 10 s
 * clips grows the heap to ~2.8 GB, and our kernels once failed there ("Start offset ... is outside
 * the bounds of the buffer"). This file (its own process) allocates 2.2 GB first, then runs kernels
 * that use heap scratch (BatchNorm, PReLU, GEMM) and compares them with the cpu backend.
 */
test('our kernels work on tensors and scratch above 2 GB of wasm heap', async () => {
  const { batchNormPreluTrain } = await import('../src/backend/kernels/batchnorm.js');
  const run = () => {
    const x = tf.add(tf.mul(tf.sin(tf.range(0, 2 * 9 * 11 * 16).reshape([2, 9, 11, 16])), 2), 1);
    const alpha = tf.fill([16], 0.25);
    const gamma = tf.linspace(0.5, 1.5, 16);
    const beta = tf.linspace(-0.2, 0.2, 16);
    const w = tf.cos(tf.range(0, 16 * 24)).reshape([16, 24]);
    const wasm = tf.getBackend() === 'wasm';
    const f = (a: tf.Tensor) => {
      // On wasm our fused BatchNorm + PReLU kernel (heap scratch); on cpu the plain ops.
      let y: tf.Tensor;
      if (wasm) y = batchNormPreluTrain(a, gamma, beta, alpha, 1e-5).y;
      else {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        y = tf.prelu(tf.batchNorm(a, mean, variance, beta, gamma, 1e-5), alpha);
      }
      // A separate PReLU (our gradient kernel) and both GEMMs (forward a b, gradient a^T b).
      return tf.matMul(tf.prelu(y.sub(0.3), alpha).reshape([-1, 16]), w);
    };
    const y = f(x);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(f(a), b.reshape([24, 16])))))([
      x,
      w,
    ]);
    return [y.dataSync() as Float32Array, dx!.dataSync() as Float32Array, dw!.dataSync() as Float32Array];
  };
  await initBackend('cpu');
  const want = tf.tidy(run);
  await initBackend('wasm');
  // 2.2 GB taken from the backend's own allocator, as a tensor's data would be, but never written:
  // tf.zeros would build a 2.2 GB JS array and copy it in (~30 s and 4.5 GB resident here).
  const { memoryOf } = await import('../src/backend/kernels/wasm-util.js');
  const backend = tf.backend() as unknown as WasmBackend;
  const ballast = backend.wasm._malloc(2_200_000_000);
  assert.ok(ballast !== 0, 'malloc of 2.2 GB failed');
  assert.ok(memoryOf(backend).buffer.byteLength > 2 ** 31, 'the heap grew past 2 GB');
  const got = tf.tidy(run);
  backend.wasm._free(ballast);
  for (let k = 0; k < want.length; k++) {
    let scale = 1e-6;
    for (const v of want[k]!) scale = Math.max(scale, Math.abs(v));
    want[k]!.forEach((v, i) =>
      assert.ok(Math.abs(v - got[k]![i]!) / scale < 1e-4, `output ${k} [${i}]: cpu ${v} wasm ${got[k]![i]}`),
    );
  }
});
