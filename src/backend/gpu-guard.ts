import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors.js';
import { webgpuDevice, type GpuAdapter } from './webgpu.js';

/**
 * Guards against the silent failures of a GPU device. A buffer bound beyond the device's
 * `maxStorageBufferBindingSize` raises nothing in tfjs: reads come back as zeros, or as the stale
 * contents of a reused buffer. Dawn does report it, as a validation error, to an error scope
 * around the work (or as an uncaptured error), and a lost device resolves `device.lost`. Every
 * training step and evaluation batch runs inside `guarded`, so such a number never reaches a
 * result: the run stops with a UserError naming the limit and what to change.
 */

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** GPUBufferUsage.STORAGE: only storage buffers are bound against maxStorageBufferBindingSize. */
const STORAGE = 0x80;

interface BufferManagerLike {
  acquireBuffer(size: number, usage: number, ...rest: unknown[]): unknown;
}

/** What to change when a buffer does not fit, for the messages below. */
const FIX = 'lower train.microBatch (or data.seconds), or use a GPU with a larger limit';

/**
 * Every storage buffer tfjs-backend-webgpu (4.22) allocates goes through its buffer manager's
 * acquireBuffer(size, usage); wrapped once per process, it records the largest one and any above
 * the binding limit in use. That limit can be lower than the device's (EXP_WEBGPU_MAX_BINDING_BYTES:
 * WebGPU never creates a device with limits below its defaults, so Dawn cannot be asked to
 * enforce it); at the device's own limit, Dawn's validation error is caught by the scopes as well.
 */
interface BufferWatch {
  limit: number;
  largest: number;
  over: number | null;
}
let watch: BufferWatch | null = null;

/** Starts watching the WebGPU backend's buffer allocations (after tf.setBackend('webgpu')). */
export function watchBuffers(limit: number): void {
  if (watch) return;
  const manager = (tf.backend() as unknown as { bufferManager?: BufferManagerLike }).bufferManager;
  if (!manager) throw new Error('tfjs-backend-webgpu has no buffer manager: the binding-limit guard cannot run');
  const w: BufferWatch = { limit, largest: 0, over: null };
  const original = manager.acquireBuffer;
  manager.acquireBuffer = function (this: BufferManagerLike, size: number, usage: number, ...rest: unknown[]) {
    if ((usage & STORAGE) !== 0) {
      if (size > w.largest) w.largest = size;
      if (size > w.limit && (w.over === null || size > w.over)) w.over = size;
    }
    return original.call(this, size, usage, ...rest);
  };
  watch = w;
}

/** Runs `fn` inside validation and out-of-memory error scopes of the WebGPU device (on other backends: just runs it). */
export async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const gpu = webgpuDevice();
  if (!gpu) return fn();
  const { device, adapter } = gpu;
  checkLost(gpu.lost(), what);
  if (watch) watch.over = null;
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    checkLost(gpu.lost(), what);
    const over = watch?.over ?? null;
    if (over !== null) throw deviceError(what, 'binding-limit', `a ${mib(over)} storage buffer was bound`, adapter);
    if (validation) throw deviceError(what, 'validation', validation.message, adapter);
    if (oom) throw deviceError(what, 'out-of-memory', oom.message, adapter);
  }
  return result;
}

function checkLost(lost: string | null, what: string): void {
  if (lost !== null)
    throw new UserError(
      `the WebGPU device was lost ${what} (${lost}); no result of this process is kept: rerun (exp run --resume continues from the last checkpoint), and if it repeats, ${FIX}`,
    );
}

function deviceError(what: string, kind: string, message: string, a: GpuAdapter): UserError {
  const first = message.split('\n')[0]!.trim();
  return new UserError(
    `the WebGPU device reported a ${kind} error ${what}: ${first}. The device's storage binding limit is ${mib(a.bindingLimit)} ` +
      `(maxStorageBufferBindingSize${a.bindingLimit < a.limits.maxStorageBufferBindingSize ? ', lowered by EXP_WEBGPU_MAX_BINDING_BYTES' : ''}); ${FIX}. Nothing of this step was kept.`,
  );
}

/** The largest storage buffer the WebGPU backend allocates while `fn` runs (bytes), or null on another backend. */
export async function largestStorageBuffer(fn: () => Promise<void>): Promise<number | null> {
  const gpu = webgpuDevice();
  if (!gpu || !watch) return null;
  const w = watch;
  w.largest = 0;
  gpu.device.pushErrorScope('validation');
  try {
    await fn();
  } finally {
    // A probe beyond the limit fails by design: it is measured, not used.
    w.over = null;
    await gpu.device.popErrorScope();
  }
  return w.largest;
}

/** The storage binding limit of the WebGPU device in use, or null on another backend. */
export function deviceBindingLimit(): number | null {
  return webgpuDevice()?.adapter.bindingLimit ?? null;
}

export { mib as formatMib };
