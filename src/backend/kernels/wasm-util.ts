import * as tf from '@tensorflow/tfjs';
import type { DataType, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/**
 * The slice of tfjs-backend-wasm's BackendWasm our kernels use. Kernels registered for 'wasm' get
 * the backend object and may call the backend's own kernel functions directly: intermediates made
 * that way never reach the engine (no tape, no tidy), so every kernel frees them by hand.
 */
export interface WasmBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number; id: number } | undefined };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  /** The Emscripten module: its memory (shared under threads, exported otherwise) and allocator. */
  wasm: {
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
}

/** The backend's WebAssembly.Memory (shared under threads, exported by the module otherwise). */
export function memoryOf(backend: WasmBackend): WebAssembly.Memory {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!memory) throw new Error('tfjs-backend-wasm: cannot find the wasm memory');
  return memory;
}

/** True for the threaded build's heap (a SharedArrayBuffer), which helper threads can share. */
export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** Byte offset of a tensor's data in the heap (unsigned: above 2 GB Emscripten's are negative). */
export function ptr(backend: WasmBackend, t: TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId);
  if (!entry) throw new Error('tensor data is not on the wasm backend');
  return entry.memoryOffset >>> 0;
}

/** What tfjs passes a kernel function. */
export interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs?: NamedAttrMap;
}

export type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** A kernel of ours for the wasm backend (tfjs types kernel functions loosely, hence the cast). */
export function wasmKernel(kernelName: string, kernelFunc: KernelFn): KernelConfig {
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'] };
}

/** The kernels we replace, captured before unregistering them so we can still delegate. */
const originals = new Map<string, KernelFn>();

export function saveOriginal(name: string): void {
  if (originals.has(name)) return;
  const k = tf.getKernel(name, 'wasm');
  if (k) originals.set(name, k.kernelFunc as unknown as KernelFn);
}

/** Runs a wasm kernel (the original one if we replaced it) on backend-level tensors. */
export function run(
  backend: WasmBackend,
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const out = runAll(backend, name, inputs, attrs);
  return out[0]!;
}

/** As `run`, for kernels with several outputs. */
export function runAll(
  backend: WasmBackend,
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
): TensorInfo[] {
  const fn = originals.get(name) ?? (tf.getKernel(name, 'wasm')?.kernelFunc as unknown as KernelFn | undefined);
  if (!fn) throw new Error(`wasm kernel ${name} is not registered`);
  const out = fn({ inputs, backend, attrs });
  return Array.isArray(out) ? out : [out];
}

/**
 * A Float32Array over a tensor's bytes in the wasm heap. Built from the memory's current buffer:
 * with threads the heap is a growable SharedArrayBuffer, and cached views may predate a growth.
 * Create views after the allocations of a step (old views stay valid but may be too short).
 */
export function f32(backend: WasmBackend, t: TensorInfo): Float32Array {
  return new Float32Array(memoryOf(backend).buffer, ptr(backend, t), sizeOf(t.shape));
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Same data, another shape (wasm Reshape shares the buffer and bumps its ref count). */
export function reshape(backend: WasmBackend, t: TensorInfo, shape: number[]): TensorInfo {
  return run(backend, 'Reshape', { x: t }, { shape });
}

export function free(backend: WasmBackend, ...ts: Array<TensorInfo | null | undefined>): void {
  for (const t of ts) if (t) backend.disposeData(t.dataId);
}
