import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The native x86-64 builds of our kernels (csrc/native/addon.c, tools/build-native.sh): the packed
 * products and the 3 x 3 depthwise passes with 256-bit AVX2 tiles, which WebAssembly's 128-bit SIMD
 * cannot express (the products ~2x the wasm tiles on one core: docs/backend.md), and a second build
 * whose products use 512-bit AVX-512 tiles. They work on tfjs-backend-wasm's heap in place, as the
 * wasm module does, and keep its bits: each output element is the same fused multiply-adds in the
 * same order (test/native-kernels.test.ts compares them). On Linux x64 the AVX-512 build runs where
 * the CPU has AVX-512 F, VL, BW and DQ, else the AVX2 build where it has AVX2 and FMA;
 * EXP_NATIVE_KERNELS=avx2 picks the AVX2 build, EXP_NATIVE_KERNELS=0 neither. Everywhere else the
 * wasm kernels run alone.
 */

/** The kernels the native build exports; the others always run in wasm. */
export const NATIVE_KERNELS = [
  'gemm_nn_p',
  'gemm_tn_ks',
  'pw_grads',
  'conv1d_rows',
  'dw3_fwd',
  'dw3_grads_rg',
  'conv_c4',
] as const;
type NativeName = (typeof NATIVE_KERNELS)[number];

interface NativeModule extends Record<NativeName, (base: number, ...args: number[]) => void> {
  heapBase(view: Uint8Array): number;
}

/** Which native build: its widest vector instructions. */
export type NativeIsa = 'avx2' | 'avx512';

/** The loaded native module, its path and build, or (path null) why the native kernels are not in use. */
export type NativeStatus = { path: string; isa: NativeIsa; module: NativeModule } | { path: null; reason: string };

// src/backend/kernels and dist/backend/kernels are both three levels below the package root.
const BINARIES: Record<NativeIsa, string> = {
  avx2: fileURLToPath(new URL('../../../native/exp-kernels-linux-x64.node', import.meta.url)),
  avx512: fileURLToPath(new URL('../../../native/exp-kernels-linux-x64-avx512.node', import.meta.url)),
};
/** How the CLI names each build ("backend wasm, 2 threads, relaxed SIMD kernels, AVX-512 products"). */
export const NATIVE_LABEL: Record<NativeIsa, string> = { avx2: 'AVX2 products', avx512: 'AVX-512 products' };

/** The /proc/cpuinfo flags each build needs (its compiler flags: tools/build-native.sh). */
const NEEDS: Record<NativeIsa, string[]> = {
  avx2: ['avx2', 'fma'],
  avx512: ['avx2', 'fma', 'avx512f', 'avx512vl', 'avx512bw', 'avx512dq'],
};

let status: NativeStatus | undefined;
let wanted = true;

/**
 * Turns the native kernels off (false) or back on for the calls this thread makes from now on: for
 * side-by-side comparisons with the wasm kernels (tests, benches) in one process. Helper threads
 * already started keep what they had: compare at one thread.
 */
export function useNativeKernels(on: boolean): void {
  wanted = on;
}

function cpuFlags(): string[] {
  try {
    return /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [];
  } catch {
    return [];
  }
}

function load(): NativeStatus {
  const env = process.env['EXP_NATIVE_KERNELS'];
  if (env === '0') return { path: null, reason: 'EXP_NATIVE_KERNELS=0' };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { path: null, reason: `no native build for ${process.platform}-${process.arch}` };
  // Each build uses its instructions throughout: loaded on a CPU without them it would crash on the
  // first kernel.
  const flags = cpuFlags();
  const fits = (isa: NativeIsa) => NEEDS[isa].every((f) => flags.includes(f));
  const isa: NativeIsa | undefined = env !== 'avx2' && fits('avx512') ? 'avx512' : fits('avx2') ? 'avx2' : undefined;
  if (!isa) return { path: null, reason: 'the CPU lacks AVX2 or FMA' };
  const path = BINARIES[isa];
  if (!existsSync(path)) return { path: null, reason: `${path} is missing` };
  try {
    return { path, isa, module: createRequire(import.meta.url)(path) as NativeModule };
  } catch (e) {
    return { path: null, reason: `${path} failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The native kernels' status, loaded once per thread. */
export function nativeStatus(): NativeStatus {
  status ??= load();
  return status;
}

function isNativeKernel(name: string): name is NativeName {
  return (NATIVE_KERNELS as readonly string[]).includes(name);
}

const bound = new WeakMap<WebAssembly.Memory, Map<string, (...args: number[]) => void>>();
const bases = new WeakMap<ArrayBufferLike, number>();

/**
 * Kernel `name` of the native build over `memory`, called as the wasm export is, or undefined when
 * the native kernels are not in use or lack it. A plain (unshared) memory moves when it grows, so
 * its address is looked up again whenever its buffer changes.
 */
export function nativeKernel(memory: WebAssembly.Memory, name: string): ((...args: number[]) => void) | undefined {
  const s = nativeStatus();
  // A build older than this list (a stale binary) lacks some: those stay in wasm.
  if (!wanted || s.path === null || !isNativeKernel(name) || typeof s.module[name] !== 'function') return undefined;
  let fns = bound.get(memory);
  if (!fns) bound.set(memory, (fns = new Map()));
  let fn = fns.get(name);
  if (!fn) {
    const kernel = s.module[name];
    const heap = s.module;
    fn = (...args: number[]) => {
      const buffer = memory.buffer;
      let base = bases.get(buffer);
      if (base === undefined) bases.set(buffer, (base = heap.heapBase(new Uint8Array(buffer, 0, 1))));
      kernel(base, ...args);
    };
    fns.set(name, fn);
  }
  return fn;
}
