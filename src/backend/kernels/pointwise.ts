import * as tf from '@tensorflow/tfjs';
import type { GradConfig, TensorInfo } from '@tensorflow/tfjs';
import { free, reshape, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { batchMatMul } from './matmul.js';
import { pointwiseGrads } from './gemm.js';

/**
 * A 1 x 1 convolution (x [..., Cin] times w [1, 1, Cin, Cout], or [Cin, Cout]) as one op with its
 * own gradient. As tfjs ops it was reshape, reshape, matMul, reshape: 4 ops, 5 tensors copied
 * for the backward pass and 3 more reshapes there, per conv (14 in a MobileFaceNet). Here the
 * reshapes are views taken inside the kernels and the products are our BatchMatMul kernel's on
 * the same 2-D operands the graph gave it, with tfjs's matMul gradient (dy w^T, x^T dy): the same
 * bits.
 */
export const POINTWISE_CONV = 'ExpAsdPointwiseConv';
export const POINTWISE_CONV_GRAD = 'ExpAsdPointwiseConvGrad';
/** Both gradients at once: [dx, dw]. */
export const POINTWISE_CONV_GRADS = 'ExpAsdPointwiseConvGrads';

function product(backend: WasmBackend, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean) {
  return batchMatMul({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } });
}

/** x as [pixels, Cin] and w as [Cin, Cout] (views). */
function operands(backend: WasmBackend, x: TensorInfo, w: TensorInfo): [TensorInfo, TensorInfo] {
  const cin = x.shape[x.shape.length - 1]!;
  const cout = w.shape[w.shape.length - 1]!;
  return [reshape(backend, x, [sizeOf(x.shape) / cin, cin]), reshape(backend, w, [cin, cout])];
}

function forward({ inputs, backend }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { x, w } = inputs as Record<'x' | 'w', TensorInfo>;
  const [a, w2] = operands(b, x, w);
  const y2 = product(b, a, w2, false, false);
  const y = reshape(b, y2, [...x.shape.slice(0, -1), w.shape[w.shape.length - 1]!]);
  free(b, a, w2, y2);
  return y;
}

/** The gradient of x (dy w^T) or of w (x^T dy), as attrs.of says. */
function backward({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { dy, x, w } = inputs as Record<'dy' | 'x' | 'w', TensorInfo>;
  const [a, w2] = operands(b, x, w);
  const dy2 = reshape(b, dy, [a.shape[0]!, w2.shape[1]!]);
  const ofX = attrs?.['of'] === 'x';
  const g = ofX ? product(b, dy2, w2, false, true) : product(b, a, dy2, true, false);
  const out = reshape(b, g, [...(ofX ? x : w).shape]);
  free(b, a, w2, dy2, g);
  return out;
}

/**
 * dx and dw from one pass over dy (gemm.ts pointwiseGrads: each pixel slice's dx rows are computed
 * just before the weight gradient packs that slice, so dy is streamed from memory once instead of
 * once per product), the same bits as the two products; the two products where it does not apply.
 */
function backwardBoth({ inputs, backend }: KernelArgs): TensorInfo[] {
  const b = backend as WasmBackend;
  const { dy, x, w } = inputs as Record<'dy' | 'x' | 'w', TensorInfo>;
  const [a, w2] = operands(b, x, w);
  const dy2 = reshape(b, dy, [a.shape[0]!, w2.shape[1]!]);
  const both = pointwiseGrads(b, a, w2, dy2) ?? [product(b, dy2, w2, false, true), product(b, a, dy2, true, false)];
  const out = [reshape(b, both[0], [...x.shape]), reshape(b, both[1], [...w.shape])];
  free(b, a, w2, dy2, ...both);
  return out;
}

export const pointwiseConvConfig = wasmKernel(POINTWISE_CONV, forward);
export const pointwiseConvGradConfig = wasmKernel(POINTWISE_CONV_GRAD, backward);
export const pointwiseConvGradsConfig = wasmKernel(POINTWISE_CONV_GRADS, backwardBoth);

/**
 * Both gradients from ExpAsdPointwiseConvGrads, computed when the tape reaches the conv (as the
 * depthwise convs' gradients): a gradient the tape does not ask for (the input of a first layer,
 * a frozen weight) is computed anyway and dropped with the backward pass's scope. Every 1 x 1 conv
 * of our networks sits inside the network with trained weights, where both are needed.
 */
export const pointwiseConvGradient: GradConfig = {
  kernelName: POINTWISE_CONV,
  inputsToSave: ['x', 'w'],
  gradFunc: (dys, saved) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, w] = saved as [tf.Tensor, tf.Tensor];
    const [dx, dw] = tf.engine().runKernel(POINTWISE_CONV_GRADS, { dy, x, w }) as tf.Tensor[];
    return { x: () => dx!, w: () => dw! };
  },
};

/** True when the fused op applies: wasm, float32, w [1, 1, Cin, Cout] or [Cin, Cout] matching x's last axis. */
export function fusedPointwiseAvailable(x: tf.Tensor, w: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(POINTWISE_CONV, 'wasm')) return false;
  const cin = w.shape[w.rank - 2];
  const square = w.rank === 2 || (w.rank === 4 && w.shape[0] === 1 && w.shape[1] === 1);
  return x.dtype === 'float32' && w.dtype === 'float32' && square && x.shape[x.rank - 1] === cin;
}

/** x [..., Cin] times w: [..., Cout]. */
export function pointwiseConv<T extends tf.Tensor>(x: T, w: tf.Tensor): T {
  return tf.engine().runKernel(POINTWISE_CONV, { x, w }) as T;
}
