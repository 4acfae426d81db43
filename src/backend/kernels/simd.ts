import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { isShared, memoryOf, type WasmBackend } from './wasm-util.js';

/**
 * Our wasm SIMD kernels (csrc/exp_kernels.c, built by tools/build-wasm.sh into wasm/). The module
 * imports tfjs-backend-wasm's own memory, so its functions work on tensors in place: every pointer
 * argument is a byte offset into the backend's heap. The threaded tfjs build has a shared memory,
 * the single-threaded builds a plain one; each has its own build of the module.
 */
export interface SimdExports {
  col_sums(
    x: number,
    y: number,
    rows: number,
    c: number,
    shift: number,
    s1: number,
    s2: number,
    mode: number,
    c0: number,
    c1: number,
  ): void;
  affine_rows(
    a: number,
    x: number,
    out: number,
    c: number,
    k: number,
    m: number,
    b: number,
    r0: number,
    r1: number,
  ): void;
  prelu_grad(
    dy: number,
    x: number,
    alpha: number,
    dx: number,
    dalpha: number,
    rows: number,
    c: number,
    c0: number,
    c1: number,
  ): void;
  /** Row-group col_sums: x, y, rows, c, shift, s1, s2, mode, block-sum scratch, rows per group, group range (row-groups.ts). */
  col_sums_rg(...args: number[]): void;
  /** Depthwise filter gradient by row groups: x, dy, acc, rowacc, geo, rows per group, group range. */
  dw_filter_grad_rg(
    x: number,
    dy: number,
    acc: number,
    rowacc: number,
    geo: number,
    grows: number,
    g0: number,
    g1: number,
  ): void;
  /** Adds float64 partials [groups][len] into the first group's slot, elements [i0, i1). */
  f64_group_sum(at: number, groups: number, len: number, i0: number, i1: number): void;
  concat_last(out: number, srcs: number, widths: number, parts: number, c: number, r0: number, r1: number): void;
  split_last(input: number, dsts: number, widths: number, parts: number, c: number, r0: number, r1: number): void;
  /** y = x with its last two axes swapped, x [G, rows, cols]; units [u0, u1) of G * ceil(cols / 4). */
  transpose_last2(x: number, y: number, rows: number, cols: number, u0: number, u1: number): void;
  adamw(
    p: number,
    m: number,
    v: number,
    g: number,
    po: number,
    mo: number,
    vo: number,
    hyper: number,
    r0: number,
    r1: number,
  ): void;
  im2col(x: number, cols: number, geo: number, r0: number, r1: number): void;
  col2im(cols: number, dx: number, geo: number, b0: number, b1: number): void;
  dw3_grads_rg(
    x: number,
    dy: number,
    wp: number,
    zb: number,
    dx: number,
    acc: number,
    rowacc: number,
    geo: number,
    grows: number,
    g0: number,
    g1: number,
  ): void;
  conv_c4_dx(dy: number, wt: number, dx: number, co: number, geo: number, r0: number, r1: number): void;
  conv_dw_ks(
    x: number,
    dy: number,
    c: number,
    p: number,
    w: number,
    geo: number,
    n: number,
    ks: number,
    parts: number,
    byRows: number,
    t0: number,
    t1: number,
  ): void;
  bn_prelu_fwd(
    x: number,
    y: number,
    c: number,
    scale: number,
    offset: number,
    alpha: number,
    r0: number,
    r1: number,
  ): void;
  /** x, dy, rows, c, scale, offset, alpha, mean, sdz, sdzx, sda (partials per group), block-sum scratch, rows per group, group range. */
  bn_prelu_sums_rg(...args: number[]): void;
  /** dy, x, dx, c, then per block of four channels scale, offset, k, ka = k alpha, m, cc interleaved (24 floats). */
  bn_prelu_dx(dy: number, x: number, dx: number, c: number, packed: number, r0: number, r1: number): void;
  dw_input_grad(dy: number, w: number, dx: number, geo: number, r0: number, r1: number): void;
  gemm_nn(a: number, b: number, c: number, k: number, n: number, m0: number, m1: number): void;
  /** 3 x 3 depthwise conv over a packed filter (dw3_pack); bias (or zeros) and alpha (or 0) per channel. */
  dw3_fwd(
    x: number,
    packed: number,
    bias: number,
    alpha: number,
    out: number,
    geo: number,
    r0: number,
    r1: number,
  ): void;
  /** Global depthwise conv (one output pixel per image), images [b0, b1); bias and alpha may be 0. */
  dw_global(
    x: number,
    w: number,
    bias: number,
    alpha: number,
    out: number,
    p: number,
    c: number,
    b0: number,
    b1: number,
  ): void;
  /** Direct conv of a 4-channel input (kw 3) over a filter packed into 8-column strips (pack_strips). */
  conv_c4(
    x: number,
    packed: number,
    bias: number,
    alpha: number,
    out: number,
    co: number,
    geo: number,
    r0: number,
    r1: number,
  ): void;
  /** Strided 3 x 3 depthwise input gradient over a packed filter (dw3_pack), input rows [r0, r1). */
  dw3_input_grad(dy: number, packed: number, dx: number, geo: number, r0: number, r1: number): void;
  /** Packs a [3, 3, c] filter as [c / 4][9][4], rotated by 180 degrees when flip is 1. */
  dw3_pack(w: number, packed: number, c: number, flip: number): void;
  gemm_nn_ep(
    a: number,
    b: number,
    c: number,
    k: number,
    n: number,
    bias: number,
    alpha: number,
    res: number,
    m0: number,
    m1: number,
  ): void;
  act_map(mode: number, a: number, b: number, out: number, alphaBits: number, i0: number, i1: number): void;
  /** LayerNorm forward (see csrc/exp_kernels.c): x, y, mean, inv, gamma, beta, n, inner, leaky, slopeBits, rows. */
  ln_fwd(...args: number[]): void;
  /** x, dy, mean, inv, gamma, beta, n, inner, leaky, slopeBits, s1, s2, rdz, rdzx, acc, outer range. */
  ln_bwd_sums(...args: number[]): void;
  /** x, dy, mean, inv, gamma, beta, c1, c2, dx, n, inner, leaky, slopeBits, rows. */
  ln_bwd_dx(...args: number[]): void;
  /** Complex multiply by a broadcast weight: xr, xi, wr, wi, yr, yi, rows, n, columns. */
  cmul_fwd(...args: number[]): void;
  /** dyr, dyi, wr, wi, out, part, rows, n, columns. */
  cmul_dx(...args: number[]): void;
  /** xr, xi, dyr, dyi, dwr, dwi, rows, n, columns. */
  cmul_dw(...args: number[]): void;
  /** SpecNet's evaluation-mode activation: fr, fi, w [6][n], bias [2], zr, zi, rows, n, columns. */
  spec_act(...args: number[]): void;
  /** A 1-D conv's interior outputs read in place (conv1d-direct.ts): x, bp, y, len, cin, stride, pad, out, tlo, thi, K, N, rows. */
  conv1d_rows(...args: number[]): void;
  /** Temporal attention (temporal-attention.ts): x, out, m, t, clips. */
  tatt_fwd(...args: number[]): void;
  /** SpecNet's DFT glue (dft-glue.ts): r, fr, fi, t, th, m, rows. */
  dft_mirror(...args: number[]): void;
  /** dfr, dfi, dr, t, th, m, rows. */
  dft_mirror_grad(...args: number[]): void;
  /** zr, zi, u, t, th, m, rows. */
  dft_fold(...args: number[]): void;
  /** du, dzr, dzi, t, th, m, rows. */
  dft_fold_grad(...args: number[]): void;
  /** FGA-Spec's gated mix: lm, fs, gf, gt, out, m, t, lambdaBits, items. */
  gmix_fwd(...args: number[]): void;
  /** dy, lm, fs, gf, gt, dfs, dlm (or 0), dgf, dgt, m, t, lambdaBits, items. */
  gmix_bwd(...args: number[]): void;
  col_sum(x: number, rows: number, c: number, s: number, c0: number, c1: number): void;
  bcast_mul(w: number, v: number, out: number, p: number, c: number, r0: number, r1: number): void;
  pack_strips(s: number, p: number, k: number, lds: number, w: number, n: number, s0: number, s1: number): void;
  /** pack_strips of the transpose of s [n, k] (8-column strips of s^T): s, p, k, lds, n, strip range. */
  pack_strips_t(s: number, p: number, k: number, lds: number, n: number, s0: number, s1: number): void;
  gemm_nn_p(
    a: number,
    bp: number,
    c: number,
    k: number,
    n: number,
    bias: number,
    alpha: number,
    res: number,
    m0: number,
    m1: number,
  ): void;
  /** x, dy, wt, dx, dw, partials, work, k, m, n, ks, parts, byRows, pack, tasks: both 1 x 1 conv gradients. */
  pw_grads(...args: number[]): void;
  gemm_tn_ks(
    a: number,
    b: number,
    c: number,
    partials: number,
    work: number,
    k: number,
    m: number,
    n: number,
    ks: number,
    parts: number,
    byRows: number,
    pack: number,
    t0: number,
    t1: number,
  ): void;
  sum_parts(c: number, partials: number, parts: number, stride: number, e0: number, e1: number): void;
  gemm_tn(
    a: number,
    b: number,
    c: number,
    k: number,
    m: number,
    n: number,
    byRows: number,
    lo: number,
    hi: number,
  ): void;
}

const instances = new WeakMap<WebAssembly.Memory, SimdExports>();
const modules = new Map<boolean, WebAssembly.Module>();
let relaxedUsed = false;

function compile(file: string): WebAssembly.Module {
  // src/backend/kernels and dist/backend/kernels are both three levels below the package root.
  return new WebAssembly.Module(readFileSync(new URL(`../../../wasm/${file}`, import.meta.url)));
}

function tryCompile(file: string): WebAssembly.Module | undefined {
  try {
    return compile(file);
  } catch {
    return undefined;
  }
}

/**
 * The module for a shared or plain heap. Prefers the relaxed-SIMD build (fused multiply-add in
 * the GEMM tiles, ~1.3x faster there): V8 >= 11.4 has relaxed SIMD on, Node 20's V8 11.3 behind
 * a flag, which we set before compiling; where it still fails to compile, the baseline build.
 * EXP_RELAXED_SIMD=0 forces the baseline (results then differ by float rounding).
 */
export function simdModule(shared: boolean): WebAssembly.Module {
  let mod = modules.get(shared);
  if (!mod) {
    const base = shared ? 'exp-kernels-shared' : 'exp-kernels';
    if (process.env['EXP_RELAXED_SIMD'] !== '0') {
      mod = tryCompile(`${base}-relaxed.wasm`);
      if (!mod) {
        // Only where it is needed: a V8 that has shipped relaxed SIMD may warn about the flag.
        v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
        mod = tryCompile(`${base}-relaxed.wasm`);
      }
      relaxedUsed = mod !== undefined;
    }
    mod ??= compile(`${base}.wasm`);
    modules.set(shared, mod);
  }
  return mod;
}

/** True once the relaxed-SIMD kernels are in use (reported by exp bench). */
export function relaxedSimdInUse(): boolean {
  return relaxedUsed;
}

/** The kernels, instantiated once per backend memory. */
export function simd(backend: WasmBackend): SimdExports {
  const memory = memoryOf(backend);
  let exports = instances.get(memory);
  if (!exports) {
    const instance = new WebAssembly.Instance(simdModule(isShared(memory)), { env: { memory } });
    exports = instance.exports as unknown as SimdExports;
    instances.set(memory, exports);
  }
  return exports;
}

/**
 * Zeroed scratch from the backend's allocator for the duration of `fn` (float64 accumulators,
 * per-channel factors); `zero` false skips the fill (a buffer `fn` overwrites whole, such as packed
 * GEMM operands), a number zeroes only that many leading bytes (accumulators first, then scratch
 * the kernel clears or overwrites itself). Views over the heap must be made inside `fn`, after the
 * allocation.
 */
export function withScratch<T>(
  backend: WasmBackend,
  bytes: number,
  fn: (at: number) => T,
  zero: boolean | number = true,
): T {
  const heap = backend.wasm;
  // Emscripten's malloc returns a signed int32: above 2 GB of heap it is negative.
  const at = heap._malloc(bytes) >>> 0;
  if (!at) throw new Error(`wasm heap exhausted allocating ${bytes} bytes of scratch`);
  try {
    const zeroed = zero === true ? bytes : zero === false ? 0 : Math.min(zero, bytes);
    if (zeroed > 0) new Uint8Array(memoryOf(backend).buffer, at, zeroed).fill(0);
    return fn(at);
  } finally {
    heap._free(at);
  }
}

/** A Float32Array / Float64Array over heap bytes (made after any allocation that may grow it). */
export function f32At(backend: WasmBackend, at: number, n: number): Float32Array {
  return new Float32Array(memoryOf(backend).buffer, at, n);
}
export function i32At(backend: WasmBackend, at: number, n: number): Int32Array {
  return new Int32Array(memoryOf(backend).buffer, at, n);
}
export function f64At(backend: WasmBackend, at: number, n: number): Float64Array {
  return new Float64Array(memoryOf(backend).buffer, at, n);
}
