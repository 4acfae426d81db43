import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { describeBackend, initBackend, parseBackendName, shaderCacheFor } from '../src/backend/select.js';
import { nativeStatus } from '../src/backend/kernels/native.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/util/errors.js';

test('auto picks wasm with two threads here (no native bindings installed), and is idempotent', async () => {
  const info = await initBackend('auto', { threads: 2 });
  assert.equal(info.backend, 'wasm');
  assert.equal(info.native, false);
  assert.equal(info.threads, 2, 'the Node thread workarounds give our kernels a shared heap for two threads');
  assert.equal(tfWasm.getThreadsCount(), 1, "XNNPACK's own pool keeps one thread");
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.simdKernels, 'relaxed', 'Node 20 runs the relaxed-SIMD build (flag set by simd.ts)');
  // The native products where native.ts loads them (test/native-kernels checks where that is).
  const s = nativeStatus();
  assert.equal(info.nativeKernels, s.path === null ? undefined : s.isa);
  const label = s.path === null ? '' : s.isa === 'avx512' ? ', AVX-512 products' : ', AVX2 products';
  assert.equal(describeBackend(info), `backend wasm, 2 threads, relaxed SIMD kernels${label}`);
  const again = await initBackend('auto', { threads: 2 });
  assert.deepEqual(again, info);
  const y = tf.matMul(tf.ones([4, 3]), tf.ones([3, 2]));
  assert.deepEqual([...y.dataSync()], Array(8).fill(3));
});

test('cpu can be selected and wasm selected again', async () => {
  assert.deepEqual(await initBackend('cpu'), { backend: 'cpu', threads: 1, native: false });
  assert.equal(tf.getBackend(), 'cpu');
  const info = await initBackend('wasm');
  assert.equal(info.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
});

test('tensorflow without the native bindings is a UserError that says how to install them', async () => {
  await assert.rejects(initBackend('tensorflow'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /--backend tensorflow.*not installed/);
    assert.match(e.hint ?? '', /npm install @tensorflow\/tfjs-node-gpu/);
    return true;
  });
});

test('an unknown backend name is a UserError naming the flag', () => {
  assert.equal(parseBackendName('wasm'), 'wasm');
  assert.throws(
    () => parseBackendName('gpu'),
    (e: unknown) =>
      e instanceof UserError &&
      /--backend expects one of auto, webgpu, tensorflow, wasm, cpu, got "gpu"/.test(e.message),
  );
});

test('a run keeps GPU shaders beside the run directories (next to the feature cache), or in EXP_SHADER_CACHE', () => {
  assert.equal(shaderCacheFor(join('runs', 'abc123'), {}), join('runs', 'cache', 'shaders'));
  assert.equal(shaderCacheFor('/data/artifacts/abc123', {}), '/data/artifacts/cache/shaders');
  assert.equal(shaderCacheFor('/data/artifacts/abc123', { EXP_SHADER_CACHE: '/fast/shaders' }), '/fast/shaders');
});

test("exp bench's header names the native build its --json reports (AVX2 / AVX-512 products), or none", () => {
  const dir = mkdtempSync(join(tmpdir(), 'exp-bench-'));
  const yaml = join(dir, 'short.yaml');
  writeFileSync(yaml, readFileSync('experiments/fgaspecnet.yaml', 'utf8').replace(/seconds: 10/, 'seconds: 1'));
  const bench = (...extra: string[]) => {
    const args = ['dist/cli/main.js', 'bench', '--batch', '2', '--steps', '1', '--warmup', '0', '--threads', '1'];
    const r = spawnSync(process.execPath, [...args, ...extra, yaml], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const json = JSON.parse(bench('--json').trim().split('\n').pop()!) as { nativeKernels?: 'avx2' | 'avx512' };
  const header = bench().split('\n')[0]!;
  const label = json.nativeKernels === 'avx512' ? ', AVX-512 products' : json.nativeKernels ? ', AVX2 products' : '';
  assert.match(header, /^backend wasm, 1 thread, relaxed SIMD kernels/);
  assert.equal(header.split(';')[0], `backend wasm, 1 thread, relaxed SIMD kernels${label}`);
  const s = nativeStatus();
  assert.equal(json.nativeKernels, s.path === null ? undefined : s.isa);
});
