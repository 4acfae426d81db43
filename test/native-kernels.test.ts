import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { initBackend } from '../src/backend/select.js';
import { nativeStatus, useNativeKernels } from '../src/backend/kernels/native.js';
import { depthwiseBiasAct } from '../src/backend/kernels/depthwise-fwd.js';
import { matMulBiasAct } from '../src/backend/kernels/matmul-epilogue.js';
import { conv1dEval, conv2d } from '../src/model/nn.js';
import { rand, valueAndGrads } from './fixtures/fused-check.js';

/**
 * The native x86-64 kernels (csrc/native/addon.c: 256-bit tiles, or 512-bit ones in the AVX-512
 * build) against the wasm ones they stand in for: the same bits, for the products a training step and scoring run (1 x 1 convs and both
 * their gradients, linear layers with bias / PReLU / residual, the direct 1-D conv), over random
 * shapes that cover whole and partial tiles and strips. One thread here (the helpers' choice is
 * made when their pool starts); the last test compares whole training steps at two threads. The
 * kernel tests check the build native.ts picks for this CPU; native-kernels-avx2.test.ts runs them
 * again with the AVX2 build. The whole step is compared for every build the CPU runs.
 */

const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [];
const has = (...f: string[]) => f.every((x) => flags.includes(x));
const capable = process.platform === 'linux' && process.arch === 'x64' && has('avx2', 'fma');
/** The build native.ts must pick: AVX-512 where the CPU has it, unless EXP_NATIVE_KERNELS=avx2. */
const expectedIsa =
  process.env['EXP_NATIVE_KERNELS'] !== 'avx2' && has('avx512f', 'avx512vl', 'avx512bw', 'avx512dq')
    ? 'avx512'
    : 'avx2';

test('the native kernels load on Linux x64 with AVX2 and FMA, and only there; the widest build the CPU runs', () => {
  const s = nativeStatus();
  if (!capable) return assert.equal(s.path, null);
  assert.notEqual(s.path, null, s.path === null ? s.reason : '');
  assert.equal(s.path !== null && s.isa, expectedIsa);
});

/** Runs `f` with the native kernels and with the wasm ones; asserts identical floats. */
function sameBits(label: string, f: () => Float32Array[]): void {
  useNativeKernels(true);
  const native = f();
  useNativeKernels(false);
  const wasm = f();
  useNativeKernels(true);
  assert.equal(native.length, wasm.length);
  native.forEach((a, k) => {
    const b = wasm[k]!;
    assert.equal(a.length, b.length);
    const i = a.findIndex((v, j) => !Object.is(v, b[j]));
    assert.equal(i, -1, `${label}, output ${k}, element ${i}: native ${a[i]} wasm ${b[i]}`);
  });
}

test('1 x 1 conv and both gradients: native = wasm bit for bit', { skip: !capable }, async () => {
  await initBackend('wasm', { threads: 1 });
  const shape = fc.record({
    b: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 40 }),
    w: fc.integer({ min: 1, max: 30 }),
    cin: fc.integer({ min: 1, max: 140 }),
    cout: fc.integer({ min: 1, max: 70 }),
  });
  fc.assert(
    fc.property(shape, (g) => {
      sameBits(JSON.stringify(g), () =>
        tf.tidy(() => {
          const x = tf.tensor4d(rand(g.b * g.h * g.w * g.cin, 1), [g.b, g.h, g.w, g.cin]);
          const w = tf.tensor4d(rand(g.cin * g.cout, 2), [1, 1, g.cin, g.cout]);
          return valueAndGrads((a, c) => conv2d(a, c, 1, 0), x, w, 3);
        }),
      );
    }),
    { numRuns: 25, seed: 5 },
  );
});

test('products with bias, PReLU and a residual, and a^T b: native = wasm bit for bit', { skip: !capable }, async () => {
  await initBackend('wasm', { threads: 1 });
  const shape = fc.record({
    m: fc.integer({ min: 1, max: 700 }),
    k: fc.integer({ min: 1, max: 300 }),
    n: fc.integer({ min: 1, max: 90 }),
  });
  fc.assert(
    fc.property(shape, ({ m, k, n }) => {
      sameBits(`${m} x ${k} x ${n}`, () =>
        tf.tidy(() => {
          const a = tf.tensor2d(rand(m * k, 4), [m, k]);
          const w = tf.tensor2d(rand(k * n, 5), [k, n]);
          const bias = tf.tensor1d(rand(n, 6));
          const alpha = tf.tensor1d(rand(n, 7, 0, 0.5));
          const res = tf.tensor2d(rand(m * n, 8), [m, n]);
          const b2 = tf.tensor2d(rand(m * n, 9), [m, n]);
          const outs = [
            matMulBiasAct(a, w, bias, alpha, res),
            matMulBiasAct(a, w, bias),
            tf.matMul(a, b2, true, false),
            tf.matMul(b2, w, false, true),
          ];
          return outs.map((t) => t.dataSync() as Float32Array);
        }),
      );
    }),
    { numRuns: 25, seed: 6 },
  );
});

test('direct 1-D conv (evaluation Tgram): native = wasm bit for bit', { skip: !capable }, async () => {
  await initBackend('wasm', { threads: 1 });
  const shape = fc.record({
    b: fc.integer({ min: 1, max: 3 }),
    len: fc.integer({ min: 40, max: 400 }),
    cin: fc.integer({ min: 1, max: 16 }),
    cout: fc.constantFrom(8, 16, 24, 40),
    k: fc.integer({ min: 1, max: 9 }),
    stride: fc.integer({ min: 1, max: 4 }),
  });
  fc.assert(
    fc.property(shape, (g) => {
      const pad = Math.floor(g.k / 2);
      sameBits(JSON.stringify(g), () =>
        tf.tidy(() => {
          const x = tf.tensor3d(rand(g.b * g.len * g.cin, 10), [g.b, g.len, g.cin]);
          const w = tf.tensor3d(rand(g.k * g.cin * g.cout, 11), [g.k, g.cin, g.cout]);
          return [conv1dEval(x, w, g.stride, pad).dataSync() as Float32Array];
        }),
      );
    }),
    { numRuns: 20, seed: 7 },
  );
});

test('3 x 3 depthwise conv, its gradients and the evaluation block: native = wasm bit for bit', {
  skip: !capable,
}, async () => {
  await initBackend('wasm', { threads: 1 });
  const shape = fc.record({
    b: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 24 }),
    w: fc.integer({ min: 1, max: 24 }),
    c: fc.constantFrom(4, 8, 12, 16, 64),
    stride: fc.constantFrom(1, 2),
  });
  fc.assert(
    fc.property(shape, (g) => {
      sameBits(JSON.stringify(g), () =>
        tf.tidy(() => {
          const x = tf.tensor4d(rand(g.b * g.h * g.w * g.c, 12), [g.b, g.h, g.w, g.c]);
          const f = tf.tensor4d(rand(9 * g.c, 13), [3, 3, g.c, 1]);
          const bias = tf.tensor1d(rand(g.c, 14));
          const alpha = tf.tensor1d(rand(g.c, 15, 0, 0.5));
          const conv = (a: tf.Tensor4D, k: tf.Tensor4D) => tf.depthwiseConv2d(a, k, g.stride, 'same');
          return [
            ...valueAndGrads(conv, x, f, 16),
            depthwiseBiasAct(x, f, bias, g.stride, 1, alpha).dataSync() as Float32Array,
          ];
        }),
      );
    }),
    { numRuns: 25, seed: 8 },
  );
});

test('the stem conv (4 input channels, 3 x 3, bias and PReLU): native = wasm bit for bit', {
  skip: !capable,
}, async () => {
  await initBackend('wasm', { threads: 1 });
  const shape = fc.record({
    b: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 3, max: 40 }),
    w: fc.integer({ min: 3, max: 60 }),
    cout: fc.constantFrom(8, 16, 24, 64),
    stride: fc.constantFrom(1, 2),
  });
  fc.assert(
    fc.property(shape, (g) => {
      sameBits(JSON.stringify(g), () =>
        tf.tidy(() => {
          const x = tf.tensor4d(rand(g.b * g.h * g.w * 4, 17), [g.b, g.h, g.w, 4]);
          const f = tf.tensor4d(rand(36 * g.cout, 18), [3, 3, 4, g.cout]);
          const bias = tf.tensor1d(rand(g.cout, 19));
          const alpha = tf.tensor1d(rand(g.cout, 20, 0, 0.5));
          const pad = [
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ] as tf.conv_util.ExplicitPadding;
          const fused = tf.fused.conv2d({
            x,
            filter: f,
            strides: g.stride,
            pad,
            bias,
            activation: 'prelu',
            preluActivationWeights: alpha,
          });
          return [fused.dataSync() as Float32Array, tf.conv2d(x, f, g.stride, pad).dataSync() as Float32Array];
        }),
      );
    }),
    { numRuns: 25, seed: 9 },
  );
});

/** A whole FGASpecNet training step's loss and gradient hash, in a child process. */
function stepHash(env: Record<string, string>): string {
  const script = fileURLToPath(new URL('./fixtures/step-hash.ts', import.meta.url));
  return execFileSync(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  }).trim();
}

// Every build in one test (child processes; native-kernels-avx2 runs the kernel tests above only).
if (process.env['EXP_NATIVE_KERNELS'] !== 'avx2')
  test('a whole training step at two threads: the same loss and gradients with each native build and without', {
    skip: !capable,
  }, () => {
    const [kernels, ...wasm] = stepHash({ EXP_THREADS: '2', EXP_NATIVE_KERNELS: '0' }).split(' ');
    assert.equal(kernels, 'wasm');
    assert.match(wasm[0]!, /^\d/);
    for (const build of expectedIsa === 'avx512' ? ['avx512', 'avx2'] : ['avx2']) {
      const [ran, ...native] = stepHash({
        EXP_THREADS: '2',
        EXP_NATIVE_KERNELS: build === 'avx2' ? 'avx2' : '1',
      }).split(' ');
      assert.equal(ran, build);
      assert.deepEqual(native, wasm, build);
    }
  });
