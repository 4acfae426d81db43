import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';
import { ptr, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { parallel } from './parallel.js';

/**
 * Complex multiplication by a weight broadcast over the leading axes (SpecNet's FourierConv2D:
 * a [B, M, T] spectrum times a learned [M, T] complex weight) as one kernel with its own gradient
 * (csrc/exp_kernels.c `cmul_fwd`, `cmul_dx`, `cmul_dw`). Unfused it is 4 Multiply (broadcast) +
 * Sub + Add forward and ~14 ops backward, among them four Sums over the batch; here one pass
 * forward, one for both weight gradients, one per input gradient (only those the tape asks for:
 * the first FourierConv's input, the DFT of the log-Mel, needs none).
 */
export const COMPLEX_MUL = 'ExpAsdComplexMul';
export const COMPLEX_MUL_DX = 'ExpAsdComplexMulDx';
export const COMPLEX_MUL_DW = 'ExpAsdComplexMulDw';

type Four = Record<'xr' | 'xi' | 'wr' | 'wi', TensorInfo>;

function dims(x: TensorInfo, w: TensorInfo): { rows: number; n: number } {
  const n = sizeOf(w.shape);
  return { rows: sizeOf(x.shape) / n, n };
}

function forward({ inputs, backend }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { xr, xi, wr, wi } = inputs as Four;
  const { rows, n } = dims(xr, wr);
  const yr = b.makeOutput([...xr.shape], 'float32');
  const yi = b.makeOutput([...xr.shape], 'float32');
  const args = [ptr(b, xr), ptr(b, xi), ptr(b, wr), ptr(b, wi), ptr(b, yr), ptr(b, yi), rows, n];
  parallel(b, 'cmul_fwd', n, args, 4, 1024);
  return [yr, yi];
}

function inputGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { dyr, dyi, wr, wi } = inputs as Record<'dyr' | 'dyi' | 'wr' | 'wi', TensorInfo>;
  const { rows, n } = dims(dyr, wr);
  const out = b.makeOutput([...dyr.shape], 'float32');
  const args = [ptr(b, dyr), ptr(b, dyi), ptr(b, wr), ptr(b, wi), ptr(b, out), attrs?.['part'] as number, rows, n];
  parallel(b, 'cmul_dx', n, args, 4, 1024);
  return out;
}

function weightGrad({ inputs, backend }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { xr, xi, dyr, dyi, wr } = inputs as Four & Record<'dyr' | 'dyi', TensorInfo>;
  const { rows, n } = dims(xr, wr);
  const dwr = b.makeOutput([...wr.shape], 'float32');
  const dwi = b.makeOutput([...wr.shape], 'float32');
  const args = [ptr(b, xr), ptr(b, xi), ptr(b, dyr), ptr(b, dyi), ptr(b, dwr), ptr(b, dwi), rows, n];
  parallel(b, 'cmul_dw', n, args, 4, 1024);
  return [dwr, dwi];
}

export const complexMulConfig = wasmKernel(COMPLEX_MUL, forward);
export const complexMulDxConfig = wasmKernel(COMPLEX_MUL_DX, inputGrad);
export const complexMulDwConfig = wasmKernel(COMPLEX_MUL_DW, weightGrad);

export const complexMulGradient: GradConfig = {
  kernelName: COMPLEX_MUL,
  inputsToSave: ['xr', 'xi', 'wr', 'wi'],
  gradFunc: (dys, saved) => {
    const [xr, xi, wr, wi] = saved as tf.Tensor[];
    const [gr, gi] = (dys as tf.Tensor[]).map((d) => d ?? tf.zerosLike(xr!));
    const run = (name: string, inputs: Record<string, tf.Tensor>, attrs = {}) =>
      tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];
    // The weights are always trained here; one pass gives both of their gradients.
    const [dwr, dwi] = run(COMPLEX_MUL_DW, { xr: xr!, xi: xi!, dyr: gr!, dyi: gi!, wr: wr! }) as tf.Tensor[];
    const dx = (part: number) => () =>
      run(COMPLEX_MUL_DX, { dyr: gr!, dyi: gi!, wr: wr!, wi: wi! }, { part }) as tf.Tensor;
    return { xr: dx(0), xi: dx(1), wr: () => dwr!, wi: () => dwi! };
  },
};

/** True when the fused kernel applies: wasm, float32, x's trailing axes equal w's shape. */
export function fusedComplexMulAvailable(xr: tf.Tensor, xi: tf.Tensor, wr: tf.Tensor, wi: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(COMPLEX_MUL, 'wasm')) return false;
  const all = [xr, xi, wr, wi];
  if (all.some((t) => t.dtype !== 'float32')) return false;
  const same = (a: tf.Tensor, b: tf.Tensor) => tf.util.arraysEqual(a.shape, b.shape);
  const tail = xr.shape.slice(xr.rank - wr.rank);
  return same(xr, xi) && same(wr, wi) && wr.rank <= xr.rank && tf.util.arraysEqual(tail, wr.shape);
}

/** (xr + i xi)(wr + i wi) with w broadcast over x's leading axes, as one fused kernel. */
export function complexMulFused<T extends tf.Tensor>(xr: T, xi: T, wr: tf.Tensor, wi: tf.Tensor): { re: T; im: T } {
  const [re, im] = tf.engine().runKernel(COMPLEX_MUL, { xr, xi, wr, wi }) as tf.Tensor[];
  return { re: re as T, im: im as T };
}
