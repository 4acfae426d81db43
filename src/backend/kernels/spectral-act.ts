import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { ptr, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { parallel } from './parallel.js';

/**
 * SpecNet's spectral activation in evaluation mode, Z = C2 tanh(BN(C1 F)) with the BatchNorms'
 * running statistics folded into C1 (src/model/inference/specnet.ts), as one pass over the
 * spectrum (csrc/exp_kernels.c `spec_act`): the unfused graph is 8 broadcast Multiply, 6 Add /
 * Sub and 2 Sigmoid (tanh as 2 sigmoid(2z) - 1) over [B, T, M] maps. Evaluation only: no gradient.
 * Inputs fr, fi [..., n]; w [6, n] = [k1, k2, k3, k4, c2r, c2i] broadcast over the leading axes;
 * bias [2] = [br, bi]. Outputs zr, zi shaped like fr.
 */
export const SPECTRAL_ACT = 'ExpAsdSpectralAct';

function forward({ inputs, backend }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { fr, fi, w, bias } = inputs as Record<'fr' | 'fi' | 'w' | 'bias', TensorInfo>;
  const n = w.shape[1]!;
  const rows = sizeOf(fr.shape) / n;
  const zr = b.makeOutput([...fr.shape], 'float32');
  const zi = b.makeOutput([...fr.shape], 'float32');
  const args = [ptr(b, fr), ptr(b, fi), ptr(b, w), ptr(b, bias), ptr(b, zr), ptr(b, zi), rows, n];
  parallel(b, 'spec_act', n, args, 4, 1024);
  return [zr, zi];
}

export const spectralActConfig = wasmKernel(SPECTRAL_ACT, forward);

/** True on wasm with our kernels registered. */
export function spectralActRegistered(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(SPECTRAL_ACT, 'wasm') !== undefined;
}

/** True when the fused kernel applies: registered, float32, fr and fi alike, w [6, n] with n fr's trailing elements. */
export function spectralActAvailable(fr: tf.Tensor, fi: tf.Tensor, w: tf.Tensor): boolean {
  if (!spectralActRegistered()) return false;
  if ([fr, fi, w].some((t) => t.dtype !== 'float32') || w.rank !== 2 || w.shape[0] !== 6) return false;
  const n = w.shape[1]!;
  const tail = fr.shape.slice(1).reduce((a, b) => a * b, 1);
  return tf.util.arraysEqual(fr.shape, fi.shape) && tail === n;
}

/** (zr, zi) of the fused kernel. */
export function spectralAct<T extends tf.Tensor>(fr: T, fi: T, w: tf.Tensor2D, bias: tf.Tensor1D): { re: T; im: T } {
  const [re, im] = tf.engine().runKernel(SPECTRAL_ACT, { fr, fi, w, bias }) as tf.Tensor[];
  return { re: re as T, im: im as T };
}
