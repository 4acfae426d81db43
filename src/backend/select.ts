import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { dirname, join } from 'node:path';
import { UserError, messageOf } from '../util/errors.js';
import { NotSettledError, settleWithin, withWasmThreadPatches } from './wasm-threads.js';
import { registerWasmTrainingKernels } from './kernels/register.js';
import { setKernelThreads } from './kernels/parallel.js';
import { NATIVE_LABEL, nativeStatus, type NativeIsa } from './kernels/native.js';
import { relaxedSimdInUse, simd } from './kernels/simd.js';
import { isShared, memoryOf, type WasmBackend } from './kernels/wasm-util.js';
import { watchBuffers } from './gpu-guard.js';
import { describeAdapterLine, initWebGpu, mayHaveGpu, WebGpuSetupError, type GpuAdapter } from './webgpu.js';

/**
 * `--gpu-adapter`: exported as EXP_WEBGPU_ADAPTER, so the trial processes and Slurm tasks a
 * command starts (which inherit its environment) pick the same adapter.
 */
export function applyGpuAdapterFlag(name: string | undefined): void {
  if (name !== undefined && name !== '') process.env['EXP_WEBGPU_ADAPTER'] = name;
}

/**
 * `--threads N`: the wasm thread count of this process and of every trainer process it starts
 * (they inherit EXP_THREADS).
 */
export function applyThreadsFlag(n: number | undefined): void {
  if (n !== undefined) process.env['EXP_THREADS'] = String(n);
}

/**
 * The wasm threads each of `concurrency` trials of a local sweep gets when neither --threads nor
 * EXP_THREADS says: the cores shared out (at most the single-run default, at least 1). Two trials
 * at one thread each keep both cores of a 2-core machine busy through the small, single-threaded
 * ops of a step, where one trial at two threads leaves one idle; results are the same (the
 * kernels' sums do not depend on the thread count).
 */
export function sweepThreads(concurrency: number, cores: number): number | undefined {
  if (concurrency <= 1) return undefined;
  return Math.max(1, Math.min(DEFAULT_WASM_THREADS, Math.floor(cores / concurrency)));
}

/** `--backend` values (docs/cli.md). */
export type BackendName = 'auto' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** The tfjs backend in use: 'webgpu', 'tensorflow' (native, CPU or GPU), 'wasm' or 'cpu'. */
  backend: string;
  /** Compute threads (wasm: our kernels' threads, `--threads`; native: managed by TensorFlow, reported as 0). */
  threads: number;
  /** True for the native TensorFlow bindings. */
  native: boolean;
  /** For the native backend: which package was loaded. */
  package?: string;
  /**
   * wasm only: which build of our SIMD kernels runs ('relaxed' uses fused multiply-add; results
   * differ from 'baseline' by float rounding, so runs record it).
   */
  simdKernels?: 'relaxed' | 'baseline';
  /**
   * wasm only: 'avx2' or 'avx512' when the products and depthwise convs run in that native x86-64
   * build (the same bits as the wasm kernels, faster: src/backend/kernels/native.ts).
   */
  nativeKernels?: NativeIsa;
  /** webgpu only: the adapter (vendor, architecture, device, driver, limits), stored with the run. */
  gpu?: GpuAdapter;
}

export interface BackendOptions {
  /** wasm threads; the default is EXP_THREADS, else DEFAULT_WASM_THREADS (measured, docs/backend.md). */
  threads?: number;
  /** webgpu: part of the adapter's name (`--gpu-adapter`; default EXP_WEBGPU_ADAPTER). */
  gpuAdapter?: string;
  /** webgpu: the GPU driver's shader cache directory (default `runs/cache/shaders`). */
  shaderCache?: string;
  /** wasm: how long its start may take before it is given up (default 300 s; tests shorten it). */
  wasmStartLimitMs?: number;
}

/** Where compiled GPU shaders are kept between processes unless EXP_SHADER_CACHE or the caller says otherwise. */
export const DEFAULT_SHADER_CACHE = 'runs/cache/shaders';

/**
 * The shader cache of a training run: `EXP_SHADER_CACHE` when set, else `cache/shaders` beside
 * the run directories (`runs/cache/shaders` for the default store, `DIR/cache/shaders` under
 * `--artifacts DIR`), next to the feature cache, so every trial of a sweep and every worker
 * sharing the artifacts compiles a shader once.
 */
export function shaderCacheFor(runDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env['EXP_SHADER_CACHE'];
  return v ? v : join(dirname(runDir), 'cache', 'shaders');
}

/**
 * Default wasm thread count. Measured on the 2-core reference machine (docs/backend.md):
 * the second thread speeds up the products, convolutions and BatchNorm passes of a training step.
 */
export const DEFAULT_WASM_THREADS = 2;

/**
 * XNNPACK's pool size under `--threads N` (capped at N): 1. What is left on XNNPACK is small
 * element-wise ops, on which its pool's dispatch and spinning threads cost more than they split,
 * and which competed for the cores with our kernels' helpers (measured, docs/backend.md Threads).
 */
export const DEFAULT_XNNPACK_THREADS = 1;

/**
 * The wasm thread count a process uses when none is given: EXP_THREADS when set (exp sweep sets
 * it for its trial processes; a batch system can set it to the cores it grants), else
 * DEFAULT_WASM_THREADS. A value that is not a whole number >= 1 is a UserError naming it.
 */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.EXP_THREADS;
  if (v === undefined || v === '') return DEFAULT_WASM_THREADS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`EXP_THREADS expects a whole number >= 1, got '${v}'`);
  return n;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export const NATIVE_INSTALL_HINT =
  'install the native bindings next to exp: `npm install @tensorflow/tfjs-node-gpu` (NVIDIA GPU with CUDA 11.8 + cuDNN 8.6) ' +
  'or `npm install @tensorflow/tfjs-node` (CPU); they must match @tensorflow/tfjs 4.22 (see docs/backend.md)';

let wasmInit: Promise<number> | null = null;
let nativeInit: Promise<string | null> | null = null;

/** Imports the first native binding that loads; null when none is installed. */
async function loadNative(): Promise<{ pkg: string } | { error: string } | null> {
  let firstError: string | null = null;
  for (const pkg of NATIVE_PACKAGES) {
    try {
      // A variable specifier: the bindings are optional and never a dependency of exp.
      const specifier: string = pkg;
      await import(specifier);
      if (tf.findBackend('tensorflow')) return { pkg };
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        if (messageOf(e).includes(`'${pkg}'`)) continue; // not installed
      }
      firstError ??= `${pkg}: ${messageOf(e).split('\n')[0]}`; // installed but broken
    }
  }
  return firstError ? { error: firstError } : null;
}

async function initNative(): Promise<string | null> {
  nativeInit ??= loadNative().then((r) => {
    if (r === null) return null;
    if ('error' in r) throw new Error(r.error);
    return r.pkg;
  });
  return nativeInit;
}

/**
 * Threads of XNNPACK's pool (the tfjs kernels we did not replace: element-wise ops, softmax, convs
 * we delegate) when our kernels run on `threads`: EXP_XNNPACK_THREADS when set (for measuring),
 * else DEFAULT_XNNPACK_THREADS, never more than `threads`.
 */
export function xnnpackThreads(threads: number, env: NodeJS.ProcessEnv = process.env): number {
  const v = env['EXP_XNNPACK_THREADS'];
  if (v === undefined || v === '') return Math.min(threads, DEFAULT_XNNPACK_THREADS);
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`EXP_XNNPACK_THREADS expects a whole number >= 1, got '${v}'`);
  return Math.min(threads, n);
}

/** A start takes 1-3 s on a quiet machine and tens of seconds under heavy load; past this something is wrong. */
const WASM_START_LIMIT_MS = 300_000;

async function initWasm(threads: number, xnnpack: number, limitMs = WASM_START_LIMIT_MS): Promise<number> {
  if (!wasmInit) {
    wasmInit = (async () => {
      registerWasmTrainingKernels();
      tfWasm.setThreadsCount(xnnpack);
      setKernelThreads(threads);
      // measured on tfjs-backend-wasm 4.22: tfjs reports no thread support under Node; we provide it.
      // Threads need its threaded build (a shared heap) even when XNNPACK's own pool has one thread.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
      const start = withWasmThreadPatches(() => tf.setBackend('wasm'));
      const ok = await settleWithin(start, limitMs, 'tfjs-backend-wasm start-up');
      if (!ok) throw new Error('tfjs-backend-wasm failed to initialise');
      unrefPthreadWorkers();
      // Our kernels' helpers share the heap: without the threaded build they cannot start.
      return isShared(memoryOf(tf.backend() as unknown as WasmBackend)) ? threads : 1;
    })();
    wasmInit.catch(() => (wasmInit = null));
  } else {
    await wasmInit;
    await tf.setBackend('wasm');
  }
  return wasmInit;
}

/** The cpu backend; silences its "install our node backend" banner (we print nothing ourselves). */
async function setCpu(): Promise<void> {
  await tf.setBackend('cpu');
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  backend.firstUse = false;
}

/** XNNPACK's pool threads are Node workers; unref them so a finished command can exit. */
function unrefPthreadWorkers(): void {
  const backend = tf.backend() as unknown as {
    wasm?: { PThread?: { runningWorkers: Array<{ unref(): void }>; unusedWorkers: Array<{ unref(): void }> } };
  };
  const pool = backend.wasm?.PThread;
  for (const w of [...(pool?.runningWorkers ?? []), ...(pool?.unusedWorkers ?? [])]) w.unref();
}

/**
 * Selects and initialises the tfjs backend (`--backend`, see docs/backend.md). `auto`: a hardware
 * WebGPU adapter (never a software or fallback one), else the native TensorFlow bindings when
 * installed (GPU first), else wasm with our training kernels, else cpu.
 * Idempotent: calling it again returns the same backend (the wasm thread count is fixed by the
 * first call). Prints nothing.
 */
export async function initBackend(name: BackendName, opts: BackendOptions = {}): Promise<BackendInfo> {
  const threads = opts.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new UserError(`--threads expects a whole number >= 1, got ${threads}`);
  }
  // Checked here, not inside the wasm set-up: \`auto\` falls back to cpu when that fails.
  const xnnpack = xnnpackThreads(threads);
  switch (name) {
    case 'webgpu':
      return webgpuInfo(await loadWebGpu(false, opts));
    case 'tensorflow': {
      let pkg: string | null;
      try {
        pkg = await initNative();
      } catch (e) {
        throw new UserError(
          `--backend tensorflow: the native bindings are installed but failed to load (${messageOf(e)})`,
          NATIVE_INSTALL_HINT,
        );
      }
      if (!pkg)
        throw new UserError(
          '--backend tensorflow: the native TensorFlow bindings are not installed',
          NATIVE_INSTALL_HINT,
        );
      await tf.setBackend('tensorflow');
      return { backend: 'tensorflow', threads: 0, native: true, package: pkg };
    }
    case 'wasm':
      return wasmInfo(await initWasm(threads, xnnpack, opts.wasmStartLimitMs));
    case 'cpu':
      await setCpu();
      return { backend: 'cpu', threads: 1, native: false };
    case 'auto': {
      // A hardware GPU through WebGPU first (never a software or fallback adapter), then the
      // native bindings, then wasm.
      if (mayHaveGpu()) {
        const gpu = await loadWebGpu(true, opts).catch(() => null);
        if (gpu) return webgpuInfo(gpu);
      }
      const pkg = await initNative().catch(() => null);
      if (pkg) {
        await tf.setBackend('tensorflow');
        return { backend: 'tensorflow', threads: 0, native: true, package: pkg };
      }
      let wasmThreads: number;
      try {
        wasmThreads = await initWasm(threads, xnnpack, opts.wasmStartLimitMs);
      } catch (e) {
        // A start that did not settle is still running inside tfjs: its engine keeps the pending
        // backend and refuses every other one ("Backend 'cpu' has not yet been initialized"), and
        // its ref'd pthread workers would keep the process alive. Say what happened instead.
        if (e instanceof NotSettledError) throw e;
        await setCpu();
        return { backend: 'cpu', threads: 1, native: false };
      }
      // Outside the fallback: broken kernels must fail loudly, not drop to the 200x slower cpu.
      return wasmInfo(wasmThreads);
    }
    default:
      throw new UserError(`--backend expects one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  }
}

/** Dawn with an adapter (hardware only when `requireHardware`), or null when there is none. */
async function loadWebGpu(requireHardware: boolean, opts: BackendOptions): Promise<GpuAdapter | null> {
  const shaderCache = opts.shaderCache ?? process.env['EXP_SHADER_CACHE'] ?? DEFAULT_SHADER_CACHE;
  let outcome;
  try {
    outcome = await initWebGpu({
      requireHardware,
      shaderCache,
      ...(opts.gpuAdapter ? { adapter: opts.gpuAdapter } : {}),
    });
  } catch (e) {
    if (e instanceof WebGpuSetupError) throw new UserError(e.message);
    throw e;
  }
  if (outcome.ok) return outcome.adapter;
  if (requireHardware) return null;
  throw new UserError(`--backend webgpu: ${outcome.reason}`, WEBGPU_HINT);
}

export const WEBGPU_HINT =
  'WebGPU needs the npm package `webgpu` (an optional dependency of exp: `npm install webgpu@0.6.2`) and a Vulkan driver for the GPU ' +
  '(NVIDIA: the proprietary driver; AMD / Intel: Mesa); check with `vulkaninfo --summary` (see docs/backend.md)';

async function webgpuInfo(gpu: GpuAdapter | null): Promise<BackendInfo> {
  if (!gpu) throw new UserError('--backend webgpu: no adapter', WEBGPU_HINT);
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error('tfjs-backend-webgpu failed to initialise on the adapter');
  watchBuffers(gpu.bindingLimit);
  return { backend: 'webgpu', threads: 0, native: false, gpu };
}

/** The wasm backend's description, with our SIMD kernels instantiated (so their build is known). */
function wasmInfo(threads: number): BackendInfo {
  simd(tf.backend() as unknown as WasmBackend);
  return {
    backend: 'wasm',
    threads,
    native: false,
    simdKernels: relaxedSimdInUse() ? 'relaxed' : 'baseline',
    ...nativeIsa(),
  };
}

function nativeIsa(): { nativeKernels?: NativeIsa } {
  const s = nativeStatus();
  return s.path === null ? {} : { nativeKernels: s.isa };
}

/** Parses a `--backend` value, with a UserError naming the flag. */
export function parseBackendName(value: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new UserError(`--backend expects one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(value)}`);
}

/** One line for the CLI: "backend wasm, 2 threads, relaxed SIMD kernels, AVX-512 products". */
export function describeBackend(info: BackendInfo): string {
  if (info.native) return `backend tensorflow (${info.package ?? 'native'})`;
  if (info.gpu) return `backend webgpu, ${describeAdapterLine(info.gpu)}`;
  const simdKernels = `${info.simdKernels ? `, ${info.simdKernels} SIMD kernels` : ''}${info.nativeKernels ? `, ${NATIVE_LABEL[info.nativeKernels]}` : ''}`;
  return `backend ${info.backend}, ${info.threads} thread${info.threads === 1 ? '' : 's'}${simdKernels}`;
}
