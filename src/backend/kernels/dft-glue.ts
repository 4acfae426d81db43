import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';
import { ptr, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { simd } from './simd.js';

/**
 * The element-wise steps of SpecNet's half-spectrum 2-D DFT (src/model/dft.ts) as one pass each
 * (csrc/exp_kernels.c `dft_mirror`, `dft_fold` and their adjoints): the forward's completion of
 * the spectrum by conjugate symmetry, and the inverse's fold of the time axis. As plain ops they
 * are 4 slices, 5 adds / subs / negs, 2 reverses and 2 concats, and 2 concats, a neg, a stack,
 * 2 slices, a reverse, a pad, a mul and an add, with twice as many ops in the fold's gradient.
 * Memory-bound copies, run on the calling thread. Same operations as the plain graph: same bits.
 */
export const DFT_MIRROR = 'ExpAsdDftMirror';
export const DFT_MIRROR_GRAD = 'ExpAsdDftMirrorGrad';
export const DFT_FOLD = 'ExpAsdDftFold';
export const DFT_FOLD_GRAD = 'ExpAsdDftFoldGrad';

const half = (t: number) => Math.floor(t / 2) + 1;

/** r [B, 2 Th, 2M] -> fr, fi [B, T, M]. */
function mirror({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { r } = inputs as Record<'r', TensorInfo>;
  const t = attrs?.['t'] as number;
  const [batch, , m2] = r.shape as [number, number, number];
  const m = m2 / 2;
  const fr = b.makeOutput([batch, t, m], 'float32');
  const fi = b.makeOutput([batch, t, m], 'float32');
  simd(b).dft_mirror(ptr(b, r), ptr(b, fr), ptr(b, fi), t, half(t), m, 0, batch * t);
  return [fr, fi];
}

/** dfr, dfi [B, T, M] -> dr [B, 2 Th, 2M]. */
function mirrorGrad({ inputs, backend }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { dfr, dfi } = inputs as Record<'dfr' | 'dfi', TensorInfo>;
  const [batch, t, m] = dfr.shape as [number, number, number];
  const th = half(t);
  const dr = b.makeOutput([batch, 2 * th, 2 * m], 'float32');
  simd(b).dft_mirror_grad(ptr(b, dfr), ptr(b, dfi), ptr(b, dr), t, th, m, 0, batch * th);
  return dr;
}

/** zr, zi [B, T, M] -> u [B, 2, Th, 2M]. */
function fold({ inputs, backend }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { zr, zi } = inputs as Record<'zr' | 'zi', TensorInfo>;
  const [batch, t, m] = zr.shape as [number, number, number];
  const th = half(t);
  const u = b.makeOutput([batch, 2, th, 2 * m], 'float32');
  simd(b).dft_fold(ptr(b, zr), ptr(b, zi), ptr(b, u), t, th, m, 0, batch * th);
  return u;
}

/** du [B, 2, Th, 2M] -> dzr, dzi [B, T, M]. */
function foldGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { du } = inputs as Record<'du', TensorInfo>;
  const t = attrs?.['t'] as number;
  const [batch, , th, m2] = du.shape as [number, number, number, number];
  const m = m2 / 2;
  const dzr = b.makeOutput([batch, t, m], 'float32');
  const dzi = b.makeOutput([batch, t, m], 'float32');
  simd(b).dft_fold_grad(ptr(b, du), ptr(b, dzr), ptr(b, dzi), t, th, m, 0, batch * t);
  return [dzr, dzi];
}

export const dftMirrorConfig = wasmKernel(DFT_MIRROR, mirror);
export const dftMirrorGradConfig = wasmKernel(DFT_MIRROR_GRAD, mirrorGrad);
export const dftFoldConfig = wasmKernel(DFT_FOLD, fold);
export const dftFoldGradConfig = wasmKernel(DFT_FOLD_GRAD, foldGrad);

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs = {}) =>
  tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];

export const dftMirrorGradient: GradConfig = {
  kernelName: DFT_MIRROR,
  gradFunc: (dys) => {
    const [dfr, dfi] = dys as tf.Tensor[];
    const zero = dfr ?? dfi!;
    return {
      r: () => run(DFT_MIRROR_GRAD, { dfr: dfr ?? tf.zerosLike(zero), dfi: dfi ?? tf.zerosLike(zero) }) as tf.Tensor,
    };
  },
};

export const dftFoldGradient: GradConfig = {
  kernelName: DFT_FOLD,
  gradFunc: (dy, _saved, attrs) => {
    const du = dy as tf.Tensor;
    const t = attrs['t'] as number;
    // Both parts from one pass, made here: the tape runs each input's gradient in its own tidy.
    const [dzr, dzi] = run(DFT_FOLD_GRAD, { du }, { t }) as tf.Tensor[];
    return { zr: () => dzr!, zi: () => dzi! };
  },
};

/** True when the kernels apply: the wasm backend with them registered, float32 tensors. */
export function dftGlueAvailable(...xs: tf.Tensor[]): boolean {
  return tf.getBackend() === 'wasm' && !!tf.getKernel(DFT_FOLD, 'wasm') && xs.every((x) => x.dtype === 'float32');
}

/** The time-major spectrum fr, fi [B, T, M] from the products r [B, 2 Th, 2M] (see dft.ts). */
export function dftMirror(r: tf.Tensor3D, t: number): { re: tf.Tensor3D; im: tf.Tensor3D } {
  const [re, im] = run(DFT_MIRROR, { r }, { t }) as tf.Tensor3D[];
  return { re: re!, im: im! };
}

/** u [B, 2, Th, 2M] = [zr+ | zi+] over [zi- | -zr-] from the time-major zr, zi [B, T, M]. */
export function dftFold(zr: tf.Tensor3D, zi: tf.Tensor3D): tf.Tensor4D {
  return run(DFT_FOLD, { zr, zi }, { t: zr.shape[1] }) as tf.Tensor4D;
}
