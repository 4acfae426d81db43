import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { rand } from './fixtures/fused-check.js';

/**
 * Each custom wasm kernel against tfjs's cpu backend (an independent implementation) on small
 * random shapes. Gradients are taken with tf.grads, so the backward kernels run exactly as in
 * training: Conv2DBackpropFilter / Input, DepthwiseConv2dNativeBackpropFilter / Input, the PReLU
 * gradient, BatchMatMul with transposes and batches, Sum / Mean over consecutive axes, Tile.
 */

type Case = (t: (shape: number[], seed: number) => tf.Tensor) => tf.Tensor[];

/** Runs `f` on both backends with identical inputs; returns [cpu outputs, wasm outputs]. */
async function both(f: Case): Promise<[Float32Array[], Float32Array[], number[][]]> {
  const results: Float32Array[][] = [];
  let shapes: number[][] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const outs = tf.tidy(() =>
      f((shape, seed) =>
        tf.tensor(
          rand(
            shape.reduce((a, b) => a * b, 1),
            seed,
          ),
          shape,
        ),
      ),
    );
    results.push(outs.map((o) => o.dataSync() as Float32Array));
    shapes = outs.map((o) => o.shape);
    tf.dispose(outs);
  }
  return [results[0]!, results[1]!, shapes];
}

function assertClose(cpu: Float32Array[], wasm: Float32Array[], label: string, tol = 1e-4): void {
  assert.equal(cpu.length, wasm.length);
  for (let k = 0; k < cpu.length; k++) {
    const a = cpu[k]!;
    const b = wasm[k]!;
    assert.equal(a.length, b.length, `${label} output ${k}: sizes differ`);
    let scale = 1e-6;
    for (const v of a) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < a.length; i++) {
      const err = Math.abs(a[i]! - b[i]!) / scale;
      assert.ok(err <= tol, `${label} output ${k} element ${i}: cpu ${a[i]} wasm ${b[i]} (relative error ${err})`);
    }
  }
}

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
type ConvCase = { x: number[]; k: number[]; s: number; pad: Pad };
/** One row and column of zeros around each map (explicit padding, as PyTorch's padding=1). */
const PAD_HW1: Pad = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];
const conv2dCases: ConvCase[] = [
  { x: [2, 9, 11, 3], k: [3, 3, 3, 5], s: 1, pad: 'same' },
  { x: [2, 9, 11, 3], k: [3, 3, 3, 5], s: 2, pad: 'same' },
  {
    x: [1, 8, 13, 4],
    k: [3, 3, 4, 6],
    s: 2,
    pad: PAD_HW1,
  },
  { x: [2, 7, 7, 2], k: [2, 3, 2, 3], s: 1, pad: 'valid' },
  // MobileFaceNet's stem (4 -> 16 here): the forward's im2col + GEMM on 8-column strips plus a tail.
  {
    x: [2, 13, 17, 4],
    k: [3, 3, 4, 21],
    s: 2,
    pad: PAD_HW1,
  },
  // 4 input channels and outputs in eights: the direct kernel (conv_c4) - 4-pixel tiles, single
  // pixels and border columns, strides 2 and 1, two tap rows, a map two rows high.
  { x: [2, 13, 21, 4], k: [3, 3, 4, 16], s: 2, pad: PAD_HW1 },
  { x: [1, 9, 14, 4], k: [3, 3, 4, 8], s: 1, pad: 'same' },
  { x: [2, 7, 12, 4], k: [2, 3, 4, 8], s: 2, pad: 'valid' },
  { x: [1, 2, 21, 4], k: [3, 3, 4, 24], s: 2, pad: PAD_HW1 },
  // The weight gradient without the whole patch matrix (conv_dw_ks): the stem over 2 chunks of
  // pixels with a partial last block of rows; k = 288 > co in 2 row ranges; k = 144, co = 64
  // packs (the im2col + gemm_tn_ks route).
  { x: [2, 64, 33, 4], k: [3, 3, 4, 16], s: 2, pad: PAD_HW1 },
  { x: [1, 6, 7, 32], k: [3, 3, 32, 4], s: 1, pad: 'same' },
  { x: [1, 5, 6, 16], k: [3, 3, 16, 64], s: 1, pad: PAD_HW1 },
  // The stem's input gradient as a gather (conv_c4_dx): 64 outputs (its specialised loop), stride 3,
  // stride 2 with 'same' padding (none on top and left for even sizes).
  { x: [2, 9, 14, 4], k: [3, 3, 4, 64], s: 2, pad: PAD_HW1 },
  { x: [1, 10, 11, 4], k: [3, 3, 4, 12], s: 3, pad: PAD_HW1 },
  { x: [1, 8, 10, 4], k: [3, 3, 4, 8], s: 2, pad: 'same' },
  { x: [2, 6, 5, 7], k: [1, 1, 7, 4], s: 1, pad: 'valid' },
  { x: [1, 1, 40, 1], k: [1, 8, 1, 6], s: 4, pad: 'valid' },
];

type ConvOp = (x: tf.Tensor4D, w: tf.Tensor4D, s: number, pad: Pad) => tf.Tensor4D;

/** The op's output and both gradients on cpu and wasm (through tf.grads, as training runs them). */
async function convGradientsMatch(op: ConvOp, c: ConvCase, label: string): Promise<void> {
  const [cpu, wasm, shapes] = await both((t) => {
    const x = t(c.x, 4);
    const w = t(c.k, 5);
    const y = op(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
    const dy = t(y.shape, 6);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(op(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), dy)),
    )([x, w]);
    return [y, dx!, dw!];
  });
  assert.deepEqual(shapes.slice(1), [c.x, c.k]);
  assertClose(cpu, wasm, `${label} ${JSON.stringify(c)}`);
}

test('Conv2D gradients (filter and input) match the cpu backend', async () => {
  for (const c of conv2dCases) await convGradientsMatch((x, w, st, pad) => tf.conv2d(x, w, st, pad), c, 'conv2d');
});

test('the im2col conv weight gradient built in blocks is the same bits as the whole patch matrix times dy', async () => {
  await initBackend('wasm');
  for (const c of conv2dCases.filter((k) => k.k[0]! * k.k[1]! > 1 && typeof k.pad !== 'string')) {
    const [kh, kw, ci, co] = c.k as [number, number, number, number];
    const pads = c.pad as number[][];
    const [dwBlocks, dwWhole] = tf.tidy(() => {
      const x = tf.tensor(rand(tf.util.sizeFromShape(c.x), 8), c.x) as tf.Tensor4D;
      const y = tf.conv2d(x, tf.zeros(c.k) as tf.Tensor4D, c.s, c.pad);
      const [n, ho, wo] = y.shape;
      const dy = tf.tensor(rand(y.size, 9), y.shape) as tf.Tensor4D;
      const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.k };
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never) as tf.Tensor;
      // The patch matrix by copies only (pad, strided slices, concatenation in (ky, kx, c) order).
      const xp = tf.pad(x, pads as Array<[number, number]>);
      const taps: tf.Tensor[] = [];
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++)
          taps.push(
            tf.stridedSlice(
              xp,
              [0, ky, kx, 0],
              [n, ky + c.s * (ho - 1) + 1, kx + c.s * (wo - 1) + 1, ci],
              [1, c.s, c.s, 1],
            ),
          );
      const cols = tf.reshape(tf.concat(taps, 3), [n * ho * wo, kh * kw * ci]);
      const whole = tf.reshape(tf.matMul(cols, tf.reshape(dy, [n * ho * wo, co]), true, false), c.k);
      return [dw.dataSync(), whole.dataSync()];
    });
    assert.deepEqual(dwBlocks, dwWhole, JSON.stringify(c));
  }
});

test('FusedConv2D (bias, PReLU) as im2col + GEMM matches the cpu backend', async () => {
  for (const c of conv2dCases) {
    const co = c.k[3]!;
    for (const activation of ['linear', 'prelu'] as const) {
      for (const withBias of [true, false]) {
        const [cpu, wasm] = await both((t) => [
          tf.fused.conv2d({
            x: t(c.x, 4) as tf.Tensor4D,
            filter: t(c.k, 5) as tf.Tensor4D,
            strides: c.s,
            pad: c.pad,
            activation,
            ...(withBias ? { bias: t([co], 6) } : {}),
            ...(activation === 'prelu' ? { preluActivationWeights: t([co], 7) } : {}),
          }),
        ]);
        assertClose(cpu, wasm, `fused conv2d ${activation} bias ${withBias} ${JSON.stringify(c)}`);
      }
    }
  }
});

const dwCases: ConvCase[] = [
  { x: [2, 9, 11, 4], k: [3, 3, 4, 1], s: 1, pad: 'same' },
  { x: [2, 9, 11, 4], k: [3, 3, 4, 1], s: 2, pad: 'same' },
  {
    x: [1, 10, 13, 3],
    k: [3, 3, 3, 1],
    s: 2,
    pad: PAD_HW1,
  },
  { x: [2, 7, 9, 5], k: [3, 3, 5, 1], s: 1, pad: 'valid' },
  // Stride 2 valid on even sizes (the filter gradient's conv would need negative padding) and stride 3.
  { x: [2, 10, 8, 3], k: [3, 3, 3, 1], s: 2, pad: 'valid' },
  { x: [2, 11, 10, 3], k: [3, 3, 3, 1], s: 3, pad: 'same' },
  // Several 4-channel blocks (split over threads) with padding on the border columns.
  { x: [2, 12, 15, 16], k: [3, 3, 16, 1], s: 1, pad: 'same' },
  {
    x: [3, 13, 12, 20],
    k: [3, 3, 20, 1],
    s: 2,
    pad: PAD_HW1,
  },
  // Stride 1 with padding 1 above and left only: the input gradient's flipped-filter conv (dw3_fwd)
  // then pads 1 above and 2 below.
  {
    x: [2, 7, 9, 8],
    k: [3, 3, 8, 1],
    s: 1,
    pad: [
      [0, 0],
      [1, 0],
      [1, 0],
      [0, 0],
    ],
  },
  // More output rows than one row group of the filter gradient (row-groups.ts: ~64 K values), so
  // threads split the groups: 3 groups at stride 1, 2 at stride 2.
  { x: [2, 40, 60, 32], k: [3, 3, 32, 1], s: 1, pad: 'same' },
  { x: [2, 80, 96, 32], k: [3, 3, 32, 1], s: 2, pad: PAD_HW1 },
  // Rows of 13 and 21 columns: 4-pixel tiles of the forward (and of the stride-1 input gradient),
  // single pixels and border columns; 512 channels at stride 2 (a 4 KB step: tiles too).
  { x: [2, 6, 13, 8], k: [3, 3, 8, 1], s: 1, pad: PAD_HW1 },
  { x: [1, 9, 21, 12], k: [3, 3, 12, 1], s: 2, pad: PAD_HW1 },
  { x: [1, 5, 21, 512], k: [3, 3, 512, 1], s: 2, pad: PAD_HW1 },
  { x: [2, 1, 13, 4], k: [3, 3, 4, 1], s: 1, pad: PAD_HW1 },
  // Both stride-1 gradients from one kernel (ExpAsdDepthwiseGrads): a one-column map, 2 x 3 maps of
  // 512 channels.
  { x: [1, 6, 1, 4], k: [3, 3, 4, 1], s: 1, pad: PAD_HW1 },
  { x: [2, 2, 3, 512], k: [3, 3, 512, 1], s: 1, pad: 'same' },
  // The strided input gradient's 2 x 2 / 2 x 1 / 1 x 1 tap variants with padding 0 above and left
  // ('same' on even sizes, 'valid') and a single tap per axis (stride 3).
  { x: [2, 10, 8, 4], k: [3, 3, 4, 1], s: 2, pad: 'same' },
  { x: [2, 10, 9, 8], k: [3, 3, 8, 1], s: 2, pad: 'valid' },
  { x: [2, 11, 10, 4], k: [3, 3, 4, 1], s: 3, pad: 'same' },
  // MobileFaceNet's global depthwise conv: the kernel covers the whole 8 x 20 map.
  { x: [3, 8, 20, 6], k: [8, 20, 6, 1], s: 1, pad: 'valid' },
  // ... and with channels in fours (our dw_global: a block of 16 channels and one of 4).
  { x: [3, 8, 4, 20], k: [8, 4, 20, 1], s: 1, pad: 'valid' },
];

test('DepthwiseConv2dNative gradients match the cpu backend', async () => {
  for (const c of dwCases)
    await convGradientsMatch((x, w, st, pad) => tf.depthwiseConv2d(x, w, st, pad), c, 'depthwise');
});

test('both stride-1 depthwise gradients from one kernel are the same bits as the two gradient kernels', async () => {
  await initBackend('wasm');
  assert.ok(tf.getKernel('ExpAsdDepthwiseGrads', 'wasm'), 'the fused kernel is registered');
  for (const c of dwCases.filter((k) => k.s === 1 && k.k[0] === 3 && k.x[3]! % 4 === 0)) {
    const [fused, apart] = tf.tidy(() => {
      const x = tf.tensor(rand(tf.util.sizeFromShape(c.x), 14), c.x) as tf.Tensor4D;
      const w = tf.tensor(rand(tf.util.sizeFromShape(c.k), 15), c.k) as tf.Tensor4D;
      const y = tf.depthwiseConv2d(x, w, 1, c.pad);
      const dy = tf.tensor(rand(y.size, 16), y.shape);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.pad), dy)),
      )([x, w]);
      const attrs = { strides: [1, 1], pad: c.pad, dilations: [1, 1], dataFormat: 'NHWC' };
      const k = (name: string, inputs: Record<string, tf.Tensor>, extra: object) =>
        tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as never) as tf.Tensor;
      const dx = k('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { inputShape: c.x });
      const dw = k('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { filterShape: c.k });
      return [grads.map((t) => t.dataSync()), [dx.dataSync(), dw.dataSync()]];
    });
    assert.deepEqual(fused, apart, JSON.stringify(c));
  }
});

test('BatchMatMul with transposes, batches and broadcasts matches the cpu backend', async () => {
  const cases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
    { a: [5, 7], b: [7, 3], ta: false, tb: false },
    { a: [7, 5], b: [7, 3], ta: true, tb: false },
    { a: [7, 9], b: [7, 3], ta: true, tb: false },
    // a^T b on our SIMD kernel: row tiles of 6 plus a remainder, column tiles of 8 and 4 plus a
    // scalar tail, more rows than one K chunk (128); threads split n (first) or m (second).
    { a: [300, 13], b: [300, 21], ta: true, tb: false },
    { a: [290, 40], b: [290, 9], ta: true, tb: false },
    // a^T b with both operands packed into strips (2 m n / (m + n) >= 128): tail rows (m % 4) and
    // columns (n % 8) from the unpacked kernel, K over three chunks; threads split n, then m.
    { a: [300, 130], b: [300, 258], ta: true, tb: false },
    { a: [270, 262], b: [270, 133], ta: true, tb: false },
    // a^T b split over K (gemm_tn_ks, chunk partials added in order; tnPlan): packed, 4 chunks of
    // 525 rows x 2 column ranges (the second 123 wide: a 3-column strip, zero-padded), 1 tail row;
    // packed, 3 chunks (534, 534, 532) x 2 row ranges (130 rows: 2 tail rows); unpacked (M, N
    // small), 2 chunks, then N < 8; packed, one task (6 tail columns, 2 tail rows).
    { a: [2100, 133], b: [2100, 259], ta: true, tb: false },
    { a: [1600, 262], b: [1600, 133], ta: true, tb: false },
    { a: [1100, 20], b: [1100, 45], ta: true, tb: false },
    { a: [1030, 9], b: [1030, 5], ta: true, tb: false },
    { a: [2, 3, 600, 66], b: [2, 3, 600, 70], ta: true, tb: false },
    // a^T b with A's rows a multiple of 2 KB apart (M = 512, 1024: packed four strips at a time):
    // 3 chunks (534, 534, 532 rows: K blocks of 128 and a 22-row tail) x 3 row ranges of 172, 172,
    // 168 rows (16-column groups, then 4-row strips), 5 columns past the last full strip; and one
    // chunk of 130 rows (a 2-row K block) x 8 row ranges of 128.
    { a: [1600, 512], b: [1600, 45], ta: true, tb: false },
    { a: [130, 1024], b: [130, 72], ta: true, tb: false },
    // a b with b's last strip zero-padded (N = 313, as the DFT; 13: a 5-column strip).
    { a: [45, 313], b: [313, 313], ta: false, tb: false },
    { a: [45, 313], b: [313, 313], ta: false, tb: true },
    { a: [37, 140], b: [140, 13], ta: false, tb: false },
    // a b on our SIMD kernel: row tiles of 4 plus remainders, K over several chunks of 128,
    // column tiles of 8 and 4 plus a scalar tail, rows split over threads.
    { a: [301, 150], b: [150, 21], ta: false, tb: false },
    // the same with b packed into 8-column strips (16 rows or more), and without (fewer).
    { a: [97, 33], b: [33, 64], ta: false, tb: false },
    { a: [15, 33], b: [33, 64], ta: false, tb: false },
    { a: [9, 13], b: [13, 12], ta: false, tb: false },
    { a: [302, 131], b: [17, 131], ta: false, tb: true },
    // a b^T with b^T packed straight from b (pack_strips_t): full 8-row strips, K % 4 = 2 (scalar
    // k tail), 5 tail rows of a; K = 1 (no 4-wide step) with a 1-row last strip.
    { a: [37, 66], b: [24, 66], ta: false, tb: true },
    { a: [20, 1], b: [9, 1], ta: false, tb: true },
    { a: [5, 7], b: [3, 7], ta: false, tb: true },
    { a: [7, 5], b: [3, 7], ta: true, tb: true },
    { a: [4, 5, 7], b: [7, 3], ta: false, tb: false },
    { a: [4, 5, 7], b: [3, 7], ta: false, tb: true },
    { a: [5, 7], b: [4, 7, 3], ta: false, tb: false },
    { a: [2, 3, 7, 5], b: [2, 3, 7, 4], ta: true, tb: false },
    { a: [3, 5, 7], b: [3, 4, 7], ta: false, tb: true },
  ];
  for (const c of cases) {
    const [cpu, wasm, shapes] = await both((t) => [tf.matMul(t(c.a, 7), t(c.b, 8), c.ta, c.tb)]);
    const m = c.ta ? c.a.at(-1)! : c.a.at(-2)!;
    const n = c.tb ? c.b.at(-2)! : c.b.at(-1)!;
    assert.deepEqual(shapes[0]!.slice(-2), [m, n]);
    assertClose(cpu, wasm, `matMul ${JSON.stringify(c)}`);
  }
});

/** Runs a fixture script at 1, 2 and 3 threads; each prints its backend and the sha256 of every output. */
async function hashesAtThreads(
  fixture: string,
): Promise<Array<{ threads: number; backend: string; hashes: string[] }>> {
  const { execFileSync } = await import('node:child_process');
  const script = new URL(`./fixtures/${fixture}`, import.meta.url).pathname;
  return [1, 2, 3].map((threads) => {
    const env = { ...process.env, EXP_TEST_THREADS: String(threads) };
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { env, encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop()!) as { threads: number; backend: string; hashes: string[] };
  });
}

test('the products, the stem conv gradients and both 1 x 1 conv gradients from one pass are bit-identical at 1, 2 and 3 threads (K split in chunks of a fixed size, partials added in order)', async () => {
  const runs = await hashesAtThreads('gemm-threads.ts');
  for (const r of runs) {
    assert.equal(r.backend, 'wasm');
    assert.equal(r.hashes.length, 17);
    assert.ok(!r.hashes.includes('non-finite'), `${r.threads} thread(s): NaN or infinite outputs`);
  }
  assert.deepEqual(runs[1]!.hashes, runs[0]!.hashes, '2 threads against 1');
  assert.deepEqual(runs[2]!.hashes, runs[0]!.hashes, '3 threads against 1');
});

test('BatchNorm (+ PReLU) and depthwise conv results and gradients are bit-identical at 1, 2 and 3 threads (sums by fixed row groups)', async () => {
  const runs = await hashesAtThreads('row-groups-threads.ts');
  for (const r of runs) {
    assert.equal(r.backend, 'wasm');
    assert.equal(r.hashes.length, 3 * (6 + 7) + 3 * 3);
    assert.ok(!r.hashes.includes('non-finite'), `${r.threads} thread(s): NaN or infinite outputs`);
  }
  assert.deepEqual(runs[1]!.hashes, runs[0]!.hashes, '2 threads against 1');
  assert.deepEqual(runs[2]!.hashes, runs[0]!.hashes, '3 threads against 1');
});

test('Slice, Pack / Unpack (stack and its gradient), Identity, SplitV and PadV2 match the cpu backend', async () => {
  const [cpu, wasm, shapes] = await both((t) => {
    const wave = t([3, 40, 1], 20);
    const x = t([2, 5, 6, 7], 21);
    const maps = [0, 1, 2, 3].map((i) => t([2, 5, 300], 22 + i));
    const dy = t([2, 5, 300, 4], 26);
    const grads = tf.grads((...m: tf.Tensor[]) => tf.sum(tf.mul(tf.stack(m, 3), dy)))(maps);
    return [
      tf.slice(wave, [0, 3, 0], [3, 30, 1]), // the waveform crop: contiguous runs per clip
      tf.slice(x, [1, 1, 0, 0], [1, 3, 6, 7]),
      tf.slice(x, [0, 2, 1, 0], [2, 2, 4, 7]),
      tf.slice(x, [0, 0, 0, 2], [2, 5, 6, 3]), // a cut last axis: short runs, the original kernel
      tf.stack(maps, 3),
      tf.stack(maps, 1), // not the last axis: the original kernel
      ...tf.unstack(tf.stack(maps, 1), 1),
      ...grads,
      tf.clone(x),
      ...tf.split(t([3, 7, 40], 27), [16, 4, 20], 2), // SplitV on the last axis (a concat's gradient)
      ...tf.split(x, [2, 3], 1),
      tf.pad(wave, [
        [0, 0],
        [5, 7],
        [0, 0],
      ]), // the waveform padding: runs per clip
      tf.pad(
        x,
        [
          [1, 0],
          [0, 2],
          [0, 0],
          [0, 0],
        ],
        1.5,
      ),
      tf.pad(x, [
        [0, 0],
        [0, 0],
        [0, 0],
        [1, 1],
      ]), // the last axis: short runs, the original kernel
    ];
  });
  assert.deepEqual(shapes.slice(0, 6), [
    [3, 30, 1],
    [1, 3, 6, 7],
    [2, 2, 4, 7],
    [2, 5, 6, 3],
    [2, 5, 300, 4],
    [2, 4, 5, 300],
  ]);
  assertClose(cpu, wasm, 'slice / pack / unpack / identity / split / pad', 0);
});

test('Transpose of the last two axes (4 x 4 blocks and their edges) and its gradient match the cpu backend', async () => {
  const swaps: Array<[number[], number[]]> = [
    [
      [2, 128, 314],
      [0, 2, 1],
    ], // the DFT's layout change
    [
      [3, 13, 10],
      [0, 2, 1],
    ], // edges in both axes
    [
      [1, 4, 4],
      [0, 2, 1],
    ],
    [
      [7, 9],
      [1, 0],
    ],
    [
      [3, 2],
      [1, 0],
    ], // narrower than a block
    [
      [2, 3, 5, 6],
      [0, 1, 3, 2],
    ],
    [
      [2, 3, 5],
      [1, 0, 2],
    ], // not a swap of the last two: the original kernel
    [
      [2, 3, 5],
      [2, 1, 0],
    ],
  ];
  const [cpu, wasm, shapes] = await both((t) =>
    swaps.flatMap(([shape, perm], i) => {
      const x = t(shape, 40 + i);
      const dy = t(
        perm.map((p) => shape[p]!),
        60 + i,
      );
      return [tf.transpose(x, perm), tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.transpose(v, perm), dy)))(x)];
    }),
  );
  assert.deepEqual(shapes[0], [2, 314, 128]);
  assert.deepEqual(shapes[10], [2, 3, 6, 5]);
  assertClose(cpu, wasm, 'transpose', 0);
});

test('a clone shares its data without aliasing trouble: disposing either side leaves the other intact', async () => {
  await initBackend('wasm');
  const x = tf.tensor([1, 2, 3, 4]);
  const y = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
  const v = tf.variable(y);
  v.assign(tf.tensor([5, 6, 7, 8]));
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(v.dataSync()), [5, 6, 7, 8]);
  tf.dispose([y, v]);
});

test('Sum / Mean over consecutive axes and Tile match the cpu backend', async () => {
  const [cpu, wasm, shapes] = await both((t) => {
    const x = t([3, 4, 5, 6], 9);
    const tall = t([3, 150, 67], 13); // more rows than a 64-row summation block, 8-lane blocks + a tail
    return [
      tf.sum(x, [0, 1, 2]),
      tf.mean(x, [0, 1, 2], true),
      tf.sum(x, 0),
      tf.mean(x, [0, 1]),
      tf.sum(x, [1, 2]), // middle axes: one column sum per leading index
      tf.sum(x),
      tf.sum(tall, 1),
      tf.mean(tall, [0, 1], true),
      tf.sum(x, [2, 3]), // trailing axes: delegated to the original kernel
      tf.sum(x, [0, 2]), // not consecutive: delegated
      tf.tile(t([1, 1, 1, 6], 10), [2, 3, 4, 1]),
      tf.tile(t([2, 3], 11), [3, 2]),
      tf.tile(t([2, 1, 3], 12), [1, 4, 2]),
    ];
  });
  assert.deepEqual(shapes, [
    [6],
    [1, 1, 1, 6],
    [4, 5, 6],
    [5, 6],
    [3, 6],
    [],
    [3, 67],
    [1, 1, 67],
    [3, 4],
    [4, 6],
    [2, 3, 4, 6],
    [6, 6],
    [2, 4, 6],
  ]);
  assertClose(cpu, wasm, 'reduce/tile');
});

// Channel counts: a tail only (6), whole 4-lane blocks split over threads (16), blocks plus a
// tail (67); more rows than the kernels' 64-row summation blocks.
const channelCases = [
  [2, 5, 7, 6],
  [2, 9, 11, 16],
  [1, 4, 70, 67],
];

test('PReLU gradient (per-channel slopes) matches the cpu backend', async () => {
  for (const shape of channelCases) {
    const [cpu, wasm] = await both((t) => {
      const x = t(shape, 13);
      const alpha = t([shape[3]!], 14);
      const dy = t(shape, 15);
      const [dx, da] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.prelu(a, b), dy)))([x, alpha]);
      return [dx!, da!];
    });
    assertClose(cpu, wasm, `prelu grad ${shape}`);
  }
});

/** The central difference of `f` in coordinate `i` of `at`, step 1e-3. */
function centralDifference(f: (v: Float64Array) => number, at: Float64Array, i: number): number {
  const h = 1e-3;
  const up = Float64Array.from(at);
  const down = Float64Array.from(at);
  up[i]! += h;
  down[i]! -= h;
  return (f(up) - f(down)) / (2 * h);
}

/**
 * The test above compares with the cpu backend, but our PReLU gradient is registered for every
 * backend, so cpu runs it too. Here the wasm result is checked against the derivative written
 * out in plain float64 JS (y = x > 0 ? x : alpha x), which itself is checked against central
 * differences of that forward formula.
 */
test('PReLU gradient equals the independent closed form and finite differences', async () => {
  await initBackend('wasm');
  for (const shape of channelCases) {
    const c = shape[3]!;
    const n = shape.reduce((a, b) => a * b, 1);
    const xs = rand(n, 21);
    const al = rand(c, 22).map((v) => v + 0.6);
    const dys = rand(n, 23);
    const [dx, da] = tf.tidy(() => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.prelu(a, b), tf.tensor(dys, shape))))([
        tf.tensor(xs, shape),
        tf.tensor(al),
      ]);
      return [g[0]!.dataSync() as Float32Array, g[1]!.dataSync() as Float32Array];
    });
    const loss = (x: Float64Array, a: Float64Array): number => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += dys[i]! * (x[i]! > 0 ? x[i]! : a[i % c]! * x[i]!);
      return sum;
    };
    const x64 = Float64Array.from(xs);
    const a64 = Float64Array.from(al);
    const wantDa = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      const want = dys[i]! * (xs[i]! > 0 ? 1 : al[i % c]!);
      assert.ok(Math.abs(dx[i]! - want) <= 1e-6, `prelu dx ${shape} element ${i}: got ${dx[i]}, closed form ${want}`);
      if (xs[i]! <= 0) wantDa[i % c]! += dys[i]! * xs[i]!;
    }
    for (let k = 0; k < c; k++) {
      assert.ok(
        Math.abs(da[k]! - wantDa[k]!) <= 1e-4 * Math.max(1, Math.abs(wantDa[k]!)),
        `prelu dalpha ${shape} channel ${k}: got ${da[k]}, closed form ${wantDa[k]}`,
      );
      const fd = centralDifference((a) => loss(x64, a), a64, k);
      assert.ok(
        Math.abs(fd - wantDa[k]!) <= 1e-6 * Math.max(1, Math.abs(fd)),
        `closed form dalpha ${k} vs finite difference ${fd}`,
      );
    }
    for (const i of [0, 1, 2, n - 1]) {
      if (Math.abs(xs[i]!) < 2e-3) continue; // the kink: no derivative there
      const fd = centralDifference((x) => loss(x, a64), x64, i);
      assert.ok(Math.abs(fd - dx[i]!) <= 1e-5, `prelu dx ${shape} element ${i}: got ${dx[i]}, finite difference ${fd}`);
    }
  }
});

type BatchStats = { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor };

/**
 * A fused training BatchNorm on wasm (`fused`, with PReLU after it when `slopes`) against moments +
 * batchNorm (+ prelu) on cpu: the forward, the batch statistics and the gradient of every input.
 * x, gamma, beta, (alpha,) dy are drawn with seeds `seed`, `seed` + 1, ...
 */
async function trainingBatchNormMatches(
  fused: (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, alpha?: tf.Tensor) => BatchStats,
  slopes: boolean,
  seed: number,
  label: string,
): Promise<void> {
  // Beyond channelCases: more values than one row group of the sums (row-groups.ts: ~64 K values in
  // whole 64-row blocks), split over threads: 2 groups (4096 + 3584 rows), 3 with a short last one.
  // One and two channels run as rows of 64 / 16 / 4 lanes (SpecNet's BatchNorm2d(1): 64 lanes in
  // 2 groups of 1024 rows, the last shorter; two channels: 16 lanes); 35 values stay one per row.
  const fewChannels = [
    [16, 128, 63, 1],
    [2, 30, 70, 2],
    [1, 5, 7, 1],
  ];
  for (const shape of [...channelCases, [2, 48, 80, 16], [1, 30, 70, 67], ...fewChannels]) {
    const c = shape[3]!;
    const [cpu, wasm] = await both((t) => {
      // A mean far from 0 tests the variance's accuracy.
      const inputs = [tf.add(t(shape, seed), 3), t([c], seed + 1), t([c], seed + 2)];
      if (slopes) inputs.push(t([c], seed + 3));
      const dy = t(shape, seed + inputs.length);
      const wasmNow = tf.getBackend() === 'wasm';
      const f = (...[a, g, b, al]: tf.Tensor[]): BatchStats => {
        if (wasmNow) return fused(a!, g!, b!, al);
        const { mean, variance } = tf.moments(a!, [0, 1, 2]);
        const y = tf.batchNorm(a!, mean, variance, b, g, 1e-5);
        return { y: al ? tf.prelu(y, al) : y, mean, variance };
      };
      const stats = f(...inputs);
      const grads = tf.grads((...v: tf.Tensor[]) => tf.sum(tf.mul(f(...v).y, dy)))(inputs);
      return [stats.y, stats.mean, stats.variance, ...grads];
    });
    assertClose(cpu, wasm, `${label} ${shape}`, 2e-4);
  }
}

test('fused training BatchNorm (forward, statistics, gradients) matches moments + batchNorm on cpu', async () => {
  const { batchNormTrain } = await import('../src/backend/kernels/batchnorm.js');
  await trainingBatchNormMatches((x, g, b) => batchNormTrain(x, g, b, 1e-5), false, 16, 'batchnorm');
});

test('fused training BatchNorm + PReLU (forward, statistics, gradients incl. the slopes) matches moments + batchNorm + prelu on cpu', async () => {
  const { batchNormPreluTrain } = await import('../src/backend/kernels/batchnorm.js');
  await trainingBatchNormMatches(
    (x, g, b, al) => batchNormPreluTrain(x, g, b, al!, 1e-5),
    true,
    26,
    'batchnorm + prelu',
  );
});

test('evaluation-mode BatchNorm (FusedBatchNorm) and BatchNorm + PReLU match the cpu backend', async () => {
  const { batchNormPreluInfer } = await import('../src/backend/kernels/batchnorm.js');
  for (const shape of channelCases) {
    const c = shape[3]!;
    const [cpu, wasm] = await both((t) => {
      const x = t(shape, 31);
      const mean = t([c], 32);
      const variance = tf.add(tf.abs(t([c], 33)), 0.1);
      const beta = t([c], 34);
      const gamma = t([c], 35);
      const alpha = t([c], 36);
      const bn = tf.batchNorm(x, mean, variance, beta, gamma, 1e-5);
      const fused =
        tf.getBackend() === 'wasm'
          ? batchNormPreluInfer(x, mean, variance, beta, gamma, alpha, 1e-5)
          : tf.prelu(bn, alpha);
      return [bn, fused, tf.batchNorm(x, mean, variance)]; // the last without scale / offset
    });
    assertClose(cpu, wasm, `inference batchnorm ${shape}`, 1e-5);
  }
});

test('every SIMD build computes correctly: relaxed / baseline (EXP_RELAXED_SIMD=0), shared heap (2 threads) / plain heap (1 thread)', async () => {
  const { execFileSync } = await import('node:child_process');
  const script = new URL('./fixtures/simd-check.ts', import.meta.url).pathname;
  for (const [relaxedEnv, threads] of [
    ['1', 2],
    ['0', 2],
    ['1', 1],
    ['0', 1],
  ] as const) {
    const env = { ...process.env, EXP_RELAXED_SIMD: relaxedEnv, EXP_TEST_THREADS: String(threads) };
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { env, encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      relaxed: boolean;
      shared: boolean;
      worst: unknown;
      nonFinite: unknown;
    };
    const label = `EXP_RELAXED_SIMD=${relaxedEnv}, ${threads} thread(s)`;
    assert.equal(r.relaxed, relaxedEnv === '1', `${label}: relaxed build in use`);
    assert.equal(r.shared, threads > 1, `${label}: shared heap`);
    assert.equal(r.nonFinite, 0, `${label}: NaN or infinite outputs`);
    assert.ok(
      typeof r.worst === 'number' && Number.isFinite(r.worst) && r.worst < 1e-4,
      `${label}: relative error ${String(r.worst)}`,
    );
  }
});

test('Tanh and LeakyRelu (forward and gradient, one SIMD pass each) match the cpu backend and finite differences', async () => {
  // 4099 elements: whole 4-lane blocks, helper-thread chunks and a 3-element tail; values up to
  // |x| = 12 cover both branches of tanh (|x| < 0.625 and beyond) and its saturation.
  const n = 4099;
  const values = Array.from(rand(n, 31), (v, i) => (i % 3 === 0 ? v * 24 : v * 1.5));
  const dys = rand(n, 32);
  const [cpu, wasm] = await both(() => {
    const x = tf.tensor1d(values);
    const dy = tf.tensor1d(dys);
    const [dTanh] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.tanh(a), dy)))([x]);
    const [dLeaky] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(a, 0.2), dy)))([x]);
    return [tf.tanh(x), tf.leakyRelu(x, 0.2), dTanh!, dLeaky!];
  });
  assertClose(cpu, wasm, 'tanh / leakyRelu', 1e-6);
  // tanh against float64 (Cephes' tanhf is within a few float32 ulps).
  const y = wasm[0]!;
  for (let i = 0; i < n; i++) {
    const exact = Math.tanh(values[i]!);
    assert.ok(
      Math.abs(y[i]! - exact) <= 3e-7 * Math.max(Math.abs(exact), 1e-3),
      `tanh(${values[i]}) = ${y[i]}, exact ${exact}`,
    );
  }
  // Gradients against central differences of the wasm forward (away from leakyRelu's kink).
  await initBackend('wasm');
  const h = 1e-3;
  for (const i of [0, 1, 2, 5, 7, 4096, 4098]) {
    for (const [label, f, grad] of [
      ['tanh', (v: number) => tf.tidy(() => tf.tanh(tf.scalar(v)).dataSync()[0]!), wasm[2]!],
      ['leakyRelu', (v: number) => tf.tidy(() => tf.leakyRelu(tf.scalar(v), 0.2).dataSync()[0]!), wasm[3]!],
    ] as const) {
      const v = values[i]!;
      if (label === 'leakyRelu' && Math.abs(v) < 2 * h) continue;
      const fd = ((f(v + h) - f(v - h)) / (2 * h)) * dys[i]!;
      assert.ok(
        Math.abs(fd - grad[i]!) <= 2e-3 * Math.max(1, Math.abs(fd)),
        `${label}' at ${v}: fd ${fd} kernel ${grad[i]}`,
      );
    }
  }
});
