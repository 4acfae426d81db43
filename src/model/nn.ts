import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from './types.js';
import { UserError } from '../util/errors.js';
import { PooledBatchMoments } from './batch-moments.js';
import { BN_EPS, BN_MOMENTUM, type BatchNormParams } from './batchnorm-params.js';
import {
  batchNormPreluInfer,
  batchNormPreluTrain,
  batchNormTrain,
  fusedBatchNormAvailable,
} from '../backend/kernels/batchnorm.js';
import { fusedLayerNormAvailable, layerNormFused } from '../backend/kernels/layernorm.js';
import { fusedIm2colAvailable, im2col1d } from '../backend/kernels/im2col.js';
import { conv1dDirect, conv1dDirectAvailable } from '../backend/kernels/conv1d-direct.js';
import { fusedPointwiseAvailable, pointwiseConv } from '../backend/kernels/pointwise.js';

/**
 * The primitive ops every zoo module is written with. Keep this layer thin and the signatures
 * plain (tensors in, tensor out, NHWC / channels last): backends may replace the internals with
 * faster kernels (e.g. fused BN + PReLU with custom gradients) without touching the modules.
 * Semantics follow PyTorch, which the reference code uses (STgram-MFN and TASTgram repositories).
 */

// BatchNorm's constants and parameters live in a leaf module, so batch-moments.ts and types.ts
// can use them without importing this file (which imports both).
export { BN_EPS, BN_MOMENTUM, type BatchNormParams } from './batchnorm-params.js';

/**
 * 2-D convolution, x [B, H, W, Cin], w [kh, kw, Cin, Cout], no bias. `pad` is PyTorch's symmetric
 * zero padding, so the output size is floor((in + 2 pad - k) / stride) + 1 exactly as PyTorch
 * (e.g. 313 -> 157 for k 3, s 2, p 1), not TensorFlow's 'same'.
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  const [kh, kw, cin, cout] = w.shape;
  if (kh === 1 && kw === 1 && stride === 1 && pad === 0) {
    // A 1x1 conv is a matmul over the pixels; its gradients are matmuls too (fast on every
    // backend, where the generic conv filter gradient is a slow loop). On wasm one op without the
    // reshapes around it (src/backend/kernels/pointwise.ts), the same products.
    if (fusedPointwiseAvailable(x, w)) return pointwiseConv(x, w);
    const [b, h, wd] = x.shape;
    return tf.matMul(x.reshape([b * h * wd, cin]), w.reshape([cin, cout])).reshape([b, h, wd, cout]);
  }
  return tf.conv2d(x, w, stride, torchPad(pad));
}

/** Depthwise 2-D convolution, w [kh, kw, C, 1] (PyTorch groups = C), padding as conv2d. */
export function depthwiseConv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  return tf.depthwiseConv2d(x, w, stride, torchPad(pad));
}

/**
 * PyTorch's symmetric zero padding as tfjs padding. Not a plain number: tfjs computes the output
 * width of a numeric pad from the kernel height (wrong for the 8 x 20 global depthwise kernel).
 */
export function torchPad(
  pad: number,
): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  return pad === 0
    ? 'valid'
    : [
        [0, 0],
        [pad, pad],
        [pad, pad],
        [0, 0],
      ];
}

/** 1-D convolution, x [B, L, Cin], w [k, Cin, Cout], optional bias [Cout], PyTorch padding
 *  (a number, or 'same' = PyTorch padding='same' for stride 1). */
export function conv1d(
  x: tf.Tensor3D,
  w: tf.Tensor3D,
  stride: number,
  pad: number | 'same',
  bias?: tf.Tensor1D,
): tf.Tensor3D {
  const y =
    typeof pad === 'number' && fusedIm2colAvailable(x, w.shape[0], stride)
      ? conv1dColumns(x, w, stride, pad)
      : conv1dGraph(x, w, stride, pad);
  return bias ? (tf.add(y, bias) as tf.Tensor3D) : y;
}

/**
 * conv1d (numeric padding, no bias) in evaluation mode: on wasm without the column matrix
 * (src/backend/kernels/conv1d-direct.ts: the same product and bits as conv1d's columns), else
 * conv1d itself. No gradient: training calls conv1d.
 */
export function conv1dEval(x: tf.Tensor3D, w: tf.Tensor3D, stride: number, pad: number): tf.Tensor3D {
  return conv1dDirectAvailable(x, w) ? conv1dDirect(x, w, stride, pad) : conv1d(x, w, stride, pad);
}

/**
 * On wasm the columns come from one kernel (src/backend/kernels/im2col.ts): the same matrix and
 * product as conv1dAsMatMul, without its pad / slice / concat ops and their gradients.
 */
function conv1dColumns(x: tf.Tensor3D, w: tf.Tensor3D, stride: number, pad: number): tf.Tensor3D {
  const [b, len, cin] = x.shape;
  const [k, , cout] = w.shape;
  const out = Math.floor((len + 2 * pad - k) / stride) + 1;
  const cols = im2col1d(x, k, stride, pad);
  return tf.matMul(cols, w.reshape([k * cin, cout])).reshape([b, out, cout]);
}

/** conv1d without bias as tfjs ops (every backend; the fused columns are tested against it). */
export function conv1dGraph(x: tf.Tensor3D, w: tf.Tensor3D, stride: number, pad: number | 'same'): tf.Tensor3D {
  // tfjs's conv1d would apply a numeric pad to its internal height axis too: pad explicitly.
  const padded =
    typeof pad === 'number' && pad > 0
      ? tf.pad(x, [
          [0, 0],
          [pad, pad],
          [0, 0],
        ])
      : x;
  return pad !== 'same' && w.shape[0] % stride === 0
    ? conv1dAsMatMul(padded, w, stride)
    : tf.conv1d(padded, w, stride, pad === 'same' ? 'same' : 'valid');
}

/**
 * A 'valid' 1-D conv whose kernel is a whole number of strides (Tgram: k 1024 = 2 x 512; k 3,
 * s 1) as one matmul: the input cut in stride-long blocks, k / stride consecutive blocks side by
 * side form each output's receptive field. Same result as tf.conv1d; matmul gradients are fast.
 */
function conv1dAsMatMul(x: tf.Tensor3D, w: tf.Tensor3D, stride: number): tf.Tensor3D {
  const [b, len, cin] = x.shape;
  const [k, , cout] = w.shape;
  const taps = k / stride;
  const out = Math.floor((len - k) / stride) + 1;
  const blocks = out + taps - 1;
  const cut = tf.slice(x, [0, 0, 0], [b, blocks * stride, cin]).reshape([b, blocks, stride * cin]);
  const cols =
    taps === 1
      ? cut
      : tf.concat(
          Array.from({ length: taps }, (_, j) => tf.slice(cut, [0, j, 0], [b, out, stride * cin])),
          2,
        );
  // Column layout (tap j, offset o, channel c) matches w's row-major [k, cin] for k = j * stride + o.
  return tf.matMul(cols.reshape([b * out, k * cin]), w.reshape([k * cin, cout])).reshape([b, out, cout]);
}

/** x [B, in] times w [in, out] plus optional b [out] (PyTorch Linear stores w transposed). */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  const y = tf.matMul<tf.Tensor2D>(x, w);
  return b ? (tf.add(y, b) as tf.Tensor2D) : y;
}

/** PReLU with one slope per channel (last axis), as torch.nn.PReLU(C). */
export function prelu<T extends tf.Tensor>(x: T, alpha: tf.Tensor1D): T {
  return tf.prelu(x, alpha as tf.Tensor as T);
}

export function leakyRelu<T extends tf.Tensor>(x: T, slope: number): T {
  return tf.leakyRelu(x, slope);
}

/**
 * LayerNorm over one axis (default the last) with affine gamma, beta (PyTorch eps 1e-5, biased
 * variance). gamma and beta must broadcast against x, e.g. [T, 1] for axis 1 of [B, T, C].
 */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, axis = -1, eps = 1e-5): T {
  // On wasm one fused kernel with its own gradient (src/backend/kernels/layernorm.ts; same math).
  if (fusedLayerNormAvailable(x, gamma, beta, axis)) return layerNormFused(x, gamma, beta, axis, eps);
  return layerNormGraph(x, gamma, beta, axis, eps);
}

/** layerNorm as tfjs ops (every backend; the fused kernel is tested against it). */
export function layerNormGraph<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, axis = -1, eps = 1e-5): T {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, axis, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta) as T;
  });
}

/** layerNorm then leakyRelu (Tgram's blocks): one fused kernel on wasm, the two calls elsewhere. */
export function layerNormLeakyRelu<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  axis: number,
  slope: number,
  eps = 1e-5,
): T {
  if (slope >= 0 && fusedLayerNormAvailable(x, gamma, beta, axis)) {
    return layerNormFused(x, gamma, beta, axis, eps, slope);
  }
  return tf.tidy(() => leakyRelu(layerNormGraph(x, gamma, beta, axis, eps), slope));
}

/**
 * BatchNorm over every axis but the last (channels), PyTorch semantics: in training mode it
 * normalises with the batch mean and the biased batch variance, and queues on ctx.updates the
 * running-statistic update running = (1 - momentum) * running + momentum * batch, where the batch
 * variance is the unbiased one (n / (n - 1)). The queued closures own kept tensors: whoever runs
 * a training-mode forward must call them. With ctx.moments set, the batch moments go there
 * instead (the trainer pools them over a step's micro-batches). In evaluation mode it uses the
 * running statistics.
 */
export function batchNorm<T extends tf.Tensor>(x: T, p: BatchNormParams, ctx: ForwardContext): T {
  return normalise(x, p, ctx, undefined);
}

/**
 * batchNorm then prelu (MobileFaceNet's conv block). Same result as the two calls; in training
 * mode on wasm one fused kernel does both and keeps no pre-activation for the backward pass.
 */
export function batchNormPrelu<T extends tf.Tensor>(
  x: T,
  p: BatchNormParams,
  alpha: tf.Tensor1D,
  ctx: ForwardContext,
): T {
  return normalise(x, p, ctx, alpha);
}

function normalise<T extends tf.Tensor>(
  x: T,
  p: BatchNormParams,
  ctx: ForwardContext,
  alpha: tf.Tensor1D | undefined,
): T {
  if (!ctx.training) {
    if (alpha && fusedBatchNormAvailable(x) && alpha.rank === 1 && alpha.shape[0] === x.shape[x.rank - 1]) {
      return batchNormPreluInfer(x, p.runningMean, p.runningVar, p.beta, p.gamma, alpha, BN_EPS);
    }
    const y = tf.batchNorm(x, p.runningMean, p.runningVar, p.beta, p.gamma, BN_EPS) as T;
    return alpha ? tf.tidy(() => prelu(y, alpha)) : y;
  }
  const channels = x.shape[x.rank - 1]!;
  const n = x.size / channels;
  if (n < 2) {
    throw new UserError(
      `BatchNorm in training mode needs more than one value per channel (got input shape [${x.shape.join(', ')}]); use a batch size of at least 2`,
    );
  }
  const axes = [...Array(x.rank - 1).keys()];
  // On wasm one fused kernel with its own gradient replaces the moments + batchNorm (+ prelu) op
  // chains (src/backend/kernels/batchnorm.ts; same math, ~10x less time in a MobileFaceNet step).
  const fusedPrelu = alpha !== undefined && alpha.rank === 1 && alpha.shape[0] === channels;
  const fused = !fusedBatchNormAvailable(x)
    ? null
    : fusedPrelu
      ? batchNormPreluTrain(x, p.gamma, p.beta, alpha, BN_EPS)
      : batchNormTrain(x, p.gamma, p.beta, BN_EPS);
  const { mean, variance } = fused ?? tf.moments(x, axes);
  let y = fused ? fused.y : (tf.batchNorm(x, mean, variance, p.beta, p.gamma, BN_EPS) as T);
  if (alpha && !(fused && fusedPrelu)) y = prelu(y, alpha);
  // Not part of the loss, so no gradient flows through the moments (the tape ignores them).
  if (ctx.moments) ctx.moments.add(p, mean, variance, n);
  else {
    const own = new PooledBatchMoments();
    own.add(p, mean, variance, n);
    ctx.updates.push(() => own.commit());
  }
  return y;
}

/** Runs and clears the queued running-statistic updates of a training-mode forward. */
export function applyUpdates(ctx: ForwardContext): void {
  for (const update of ctx.updates.splice(0)) update();
}
