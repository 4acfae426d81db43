import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { nativeKernel, nativeStatus, NATIVE_KERNELS } from './native.js';
import { simd, simdModule, type SimdExports } from './simd.js';
import { isShared, memoryOf, type WasmBackend } from './wasm-util.js';

/**
 * Splits one of our SIMD kernels over threads. XNNPACK's pool is private to tfjs, so our kernels
 * get helpers of their own: Node workers that instantiate the same module over the same shared
 * heap and wait on a small control block.
 *
 * A call cuts its range into chunks and publishes them; the calling thread and every helper that
 * wakes claim chunks with a compare-and-swap until none is left, and the caller waits only for
 * chunks a helper has claimed. A helper that wakes late (XNNPACK's pool threads spin for a while
 * after their own work, so a core may be busy for milliseconds) therefore never delays a call:
 * the caller just does more chunks itself. The claim word carries a call tag, so a helper that
 * wakes after its call ended cannot claim a chunk of the next one with stale arguments. Every
 * kernel writes disjoint outputs per chunk (column ranges for sums, row ranges for maps), so
 * chunks need no locks. With one thread, or tfjs's single-threaded build (no shared heap), calls
 * run inline.
 *
 * Waiting spins for a moment before it sleeps, on both sides: a helper after a call (the next one
 * usually comes within microseconds: a batch-4 training step makes ~350 calls), and the caller
 * for the chunks a helper still runs. Woken from Atomics.wait, a helper started a product's chunks
 * 110-150 µs late on average in a training step (a core idle for a while sleeps deeper), and the
 * caller, woken the same way, ended each call late too. Only when every thread has a core of its
 * own: a spinning thread that shares a core delays the one it waits for.
 */

type Name = keyof SimdExports;
const NAMES: readonly Name[] = [
  'col_sums',
  'affine_rows',
  'prelu_grad',
  'dw_filter_grad_rg',
  'concat_last',
  'split_last',
  'transpose_last2',
  'gemm_tn',
  'adamw',
  'im2col',
  'col2im',
  'bn_prelu_fwd',
  'bn_prelu_sums_rg',
  'bn_prelu_dx',
  'gemm_nn',
  'dw_input_grad',
  'gemm_nn_ep',
  'dw3_fwd',
  'pack_strips',
  'gemm_nn_p',
  'gemm_tn_ks',
  'sum_parts',
  'col_sum',
  'bcast_mul',
  'act_map',
  'ln_fwd',
  'ln_bwd_sums',
  'ln_bwd_dx',
  'cmul_fwd',
  'cmul_dx',
  'cmul_dw',
  'gmix_fwd',
  'gmix_bwd',
  'col_sums_rg',
  'dw3_input_grad',
  'pack_strips_t',
  'conv_c4',
  'dw_global',
  'conv_dw_ks',
  'conv_c4_dx',
  'dw3_grads_rg',
  'pw_grads',
  'spec_act',
  'conv1d_rows',
  'tatt_fwd',
];
const MAX_ARGS = 24;
/** Int32 slots of the control block. NEXT = (call tag << 16) | next unclaimed chunk. */
const NEXT = 0,
  DONE = 1,
  FN = 2,
  NARGS = 3,
  CHUNKS = 4,
  STEP = 5,
  TOTAL = 6,
  FAILED = 7,
  ARGS = 8;
const SLOTS = ARGS + MAX_ARGS;
/**
 * How long a waiting thread spins before it sleeps. A 10 s batch-4 FGASpecNet training step at 2
 * threads on a quiet 2-core machine: 346 ms without spinning, 334 with 0.1 ms, 331 with 0.3
 * (medians of 4 runs each; docs/backend.md, Threads).
 */
const SPIN_MS = 0.3;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, names, nativePath, nativeNames } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
// The native kernels where the caller uses them (native.ts); a shared heap never moves.
const nat = nativePath ? require(nativePath) : null;
const base = nat ? nat.heapBase(new Uint8Array(memory.buffer, 0, 1)) : 0;
const native = (n) => nat && nativeNames.includes(n) && typeof nat[n] === 'function';
const fns = names.map((n) => (native(n) ? (...a) => nat[n](base, ...a) : exports[n]));
const ctl = new Int32Array(control);
const [NEXT, DONE, FN, NARGS, CHUNKS, STEP, TOTAL, FAILED, ARGS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const { spinMs } = workerData;
let last = Atomics.load(ctl, NEXT) >>> 16;
for (;;) {
  let v = Atomics.load(ctl, NEXT);
  if (v >>> 16 === last) {
    const until = performance.now() + spinMs;
    while ((v = Atomics.load(ctl, NEXT)) >>> 16 === last && performance.now() < until);
    if (v >>> 16 === last) { Atomics.wait(ctl, NEXT, v); continue; }
  }
  const tag = v >>> 16;
  last = tag;
  const fn = fns[ctl[FN]], chunks = ctl[CHUNKS], step = ctl[STEP], total = ctl[TOTAL];
  const args = Array.from(ctl.subarray(ARGS, ARGS + ctl[NARGS]));
  for (;;) {
    const w = Atomics.load(ctl, NEXT);
    const i = w & 0xffff;
    if (w >>> 16 !== tag || i >= chunks) break;
    if (Atomics.compareExchange(ctl, NEXT, w, w + 1) !== w) continue;
    try {
      fn(...args, i * step, Math.min(total, (i + 1) * step));
    } catch (e) {
      Atomics.store(ctl, FAILED, 1);
    }
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}
`;

interface Pool {
  helpers: Worker[];
  ctl: Int32Array;
  tag: number;
  /** How long a waiting thread spins before it sleeps (0: more threads than cores). */
  spinMs: number;
}

const pools = new WeakMap<WebAssembly.Memory, Pool>();
let wanted = 1;

/** Threads our kernels use (the wasm thread count); takes effect for pools made afterwards. */
export function setKernelThreads(n: number): void {
  wanted = Math.max(1, Math.floor(n));
}

function poolFor(backend: WasmBackend): Pool {
  const memory = memoryOf(backend);
  let pool = pools.get(memory);
  if (pool) return pool;
  const control = new SharedArrayBuffer(SLOTS * 4);
  const spinMs = wanted <= os.availableParallelism() ? SPIN_MS : 0;
  pool = { helpers: [], ctl: new Int32Array(control), tag: 0, spinMs };
  for (let i = 1; isShared(memory) && i < wanted; i++) {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module: simdModule(true),
          memory,
          control,
          names: NAMES,
          spinMs,
          nativePath: nativeStatus().path,
          nativeNames: NATIVE_KERNELS,
        },
      });
    } catch {
      break; // no more threads to be had (resource limits): the caller does the work itself
    }
    worker.unref();
    pool.helpers.push(worker);
  }
  pools.set(memory, pool);
  return pool;
}

/**
 * Runs kernel `name` over [0, n): `args` are its arguments without the range, which the runner
 * appends as the last two (lo, hi). Chunks start at multiples of `align` and hold at least
 * `minChunk` items; small ranges run inline (waking a helper costs ~20-50 µs). Two chunks per
 * thread measured best for a whole training step (8 or 16 balance the threads better but cost
 * more in re-read operands and cache misses at chunk edges).
 */
export function parallel(
  backend: WasmBackend,
  name: Name,
  n: number,
  args: number[],
  align = 1,
  minChunk = align,
  chunksPerThread = 2,
): void {
  const fn =
    nativeKernel(memoryOf(backend), name) ?? (simd(backend) as unknown as Record<Name, (...a: number[]) => void>)[name];
  // Helpers find the function by its index in NAMES: checked on every call, so that a kernel
  // missing from the list fails at once on one thread too (a helper would call nothing and fail).
  const index = NAMES.indexOf(name);
  if (index < 0) throw new Error(`parallel: ${name} is not in parallel.ts's NAMES`);
  const pool = poolFor(backend);
  const threads = pool.helpers.length + 1;
  const unit = Math.max(align, Math.ceil(minChunk / align) * align);
  const chunks = Math.min(chunksPerThread * threads, Math.floor(n / unit), 0xffff);
  if (threads === 1 || chunks <= 1) {
    fn(...args, 0, n);
    return;
  }
  if (args.length > MAX_ARGS) throw new Error(`${name}: too many arguments for a helper thread`);
  const step = Math.ceil(n / chunks / align) * align;
  const count = Math.ceil(n / step);
  const ctl = pool.ctl;
  // Close the previous call before its arguments are overwritten: a helper that woke late for it
  // may be reading FN / ARGS now, and must not then claim a chunk with a mix of two calls'
  // arguments (seen under heavy CPU load as gemm_tn out-of-bounds accesses). Chunk 0xffff is never
  // claimable, so its compare-and-swap fails and it goes back to waiting.
  Atomics.store(ctl, NEXT, (pool.tag << 16) | 0xffff);
  pool.tag = (pool.tag % 0x7fff) + 1;
  const tag = pool.tag;
  ctl[FN] = index;
  ctl[NARGS] = args.length;
  ctl[CHUNKS] = count;
  ctl[STEP] = step;
  ctl[TOTAL] = n;
  ctl[FAILED] = 0;
  ctl.set(args, ARGS);
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, NEXT, tag << 16);
  Atomics.notify(ctl, NEXT);
  for (;;) {
    const w = Atomics.load(ctl, NEXT);
    const i = w & 0xffff;
    if (i >= count) break;
    if (Atomics.compareExchange(ctl, NEXT, w, w + 1) !== w) continue;
    fn(...args, i * step, Math.min(n, (i + 1) * step));
    Atomics.add(ctl, DONE, 1);
  }
  const until = performance.now() + pool.spinMs;
  while (Atomics.load(ctl, DONE) < count && performance.now() < until);
  const deadline = Date.now() + 600_000;
  for (let d = Atomics.load(ctl, DONE); d < count; d = Atomics.load(ctl, DONE)) {
    if (Date.now() > deadline) throw new Error(`${name}: a helper thread stopped answering`);
    Atomics.wait(ctl, DONE, d, 1000);
  }
  if (Atomics.load(ctl, FAILED))
    throw new Error(`${name}: failed in a helper thread (out-of-bounds access in the wasm kernel)`);
}
