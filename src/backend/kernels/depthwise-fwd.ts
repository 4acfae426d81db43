import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, withHeapGeometry, type ConvGeometry } from './conv-geometry.js';
import { parallel } from './parallel.js';
import { simd, withScratch } from './simd.js';
import { ptr, run, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';

/**
 * 3 x 3 depthwise convs (MobileFaceNet's, stride 1 or 2, PyTorch padding 1) as one SIMD pass
 * (csrc/exp_kernels.c `dw3_fwd`), optionally adding a bias and applying a PReLU as each output is
 * stored: the evaluation-mode block with its BatchNorm folded in is this one kernel. Other
 * geometries go to tfjs's own kernels.
 */
export const DEPTHWISE_BIAS_ACT = 'ExpAsdDepthwiseBiasAct';

/** The geometry dw3_fwd serves: 3 x 3 taps, no dilation, channel multiplier 1, channels in fours, padding at most 1. */
export function dw3Served(x: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap): ConvGeometry | null {
  const [kh, kw, c, mult] = filter.shape;
  if (x.dtype !== 'float32' || kh !== 3 || kw !== 3 || mult !== 1 || c! % 4 !== 0 || x.shape.length !== 4) return null;
  const g = convGeometry(x.shape, filter.shape, attrs, true);
  const padOk = g.top >= 0 && g.top <= 1 && g.left >= 0 && g.left <= 1;
  return g.dh === 1 && g.dw === 1 && padOk && g.ho > 0 && g.wo > 0 ? g : null;
}

/**
 * One dw3_fwd pass (output rows split over threads); bias and alpha optional. The filter is
 * packed first (`dw3_pack`: a channel block's nine taps side by side), rotated by 180 degrees when
 * `flip` (the input gradient's conv).
 */
export function dw3(
  b: WasmBackend,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  alpha: TensorInfo | undefined,
  g: ConvGeometry,
  flip = false,
): TensorInfo {
  const out = b.makeOutput([g.n, g.ho, g.wo, g.ci], 'float32');
  // Scratch: the packed filter (9 c floats), then c zeros (the bias when there is none).
  withScratch(b, 40 * g.ci, (packed) => {
    simd(b).dw3_pack(ptr(b, filter), packed, g.ci, flip ? 1 : 0);
    const biasAt = bias ? ptr(b, bias) : packed + 36 * g.ci;
    withHeapGeometry(b, g, (geo) =>
      parallel(b, 'dw3_fwd', g.n * g.ho, [ptr(b, x), packed, biasAt, alpha ? ptr(b, alpha) : 0, ptr(b, out), geo], 1),
    );
  });
  return out;
}

/**
 * A global depthwise conv (the filter covers the whole unpadded map: one output pixel, as
 * MobileFaceNet's 8 x 4 embedding conv), channels in fours: its geometry, else null.
 */
export function globalServed(x: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap): ConvGeometry | null {
  const [kh, kw, c, mult] = filter.shape;
  if (x.dtype !== 'float32' || mult !== 1 || c! % 4 !== 0 || x.shape.length !== 4) return null;
  const g = convGeometry(x.shape, filter.shape, attrs, true);
  const whole = g.ho === 1 && g.wo === 1 && kh === g.h && kw === g.w && g.top === 0 && g.left === 0;
  return whole && g.dh === 1 && g.dw === 1 ? g : null;
}

/** One dw_global pass (images split over threads): out [n, 1, 1, c]. */
function dwGlobal(
  b: WasmBackend,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  alpha: TensorInfo | undefined,
  g: ConvGeometry,
): TensorInfo {
  const out = b.makeOutput([g.n, 1, 1, g.ci], 'float32');
  const args = [ptr(b, x), ptr(b, filter), bias ? ptr(b, bias) : 0, alpha ? ptr(b, alpha) : 0, ptr(b, out)];
  parallel(b, 'dw_global', g.n, [...args, g.h * g.w, g.ci], 1, Math.max(1, Math.ceil(65536 / (g.h * g.w * g.ci))));
  return out;
}

/** The conv on our kernels (dw3_fwd, else dw_global) where one serves its geometry, else null. */
function ours(
  b: WasmBackend,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  alpha: TensorInfo | undefined,
  attrs: NamedAttrMap,
): TensorInfo | null {
  const g = dw3Served(x, filter, attrs);
  if (g) return dw3(b, x, filter, bias, alpha, g);
  const whole = globalServed(x, filter, attrs);
  return whole ? dwGlobal(b, x, filter, bias, alpha, whole) : null;
}

function depthwiseBiasActKernel({ inputs, backend, attrs = {} }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { x, filter, bias, alpha } = inputs as Record<'x' | 'filter', TensorInfo> &
    Partial<Record<'bias' | 'alpha', TensorInfo>>;
  const served = ours(b, x, filter, bias, alpha, attrs);
  if (served) return served;
  const fused: Record<string, TensorInfo> = {
    x,
    filter,
    ...(bias ? { bias } : {}),
    ...(alpha ? { preluActivationWeights: alpha } : {}),
  };
  return run(b, 'FusedDepthwiseConv2D', fused, {
    ...attrs,
    dataFormat: 'NHWC',
    dilations: 1,
    activation: alpha ? 'prelu' : 'linear',
  });
}

export const depthwiseBiasActConfig = wasmKernel(DEPTHWISE_BIAS_ACT, depthwiseBiasActKernel);

/** DepthwiseConv2dNative (training's forward too): ours where one serves, else tfjs's (XNNPACK). */
function depthwiseForward({ inputs, backend, attrs = {} }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const { x, filter } = inputs as Record<'x' | 'filter', TensorInfo>;
  return ours(b, x, filter, undefined, undefined, attrs) ?? run(b, 'DepthwiseConv2dNative', inputs, attrs);
}

export const depthwiseForwardConfig = wasmKernel('DepthwiseConv2dNative', depthwiseForward);

/**
 * prelu(depthwiseConv2d(x, filter) + bias) with PyTorch's symmetric padding (alpha optional):
 * one kernel on wasm, tfjs's fused depthwise conv elsewhere (the reference it is tested against).
 */
export function depthwiseBiasAct(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  stride: number,
  pad: number,
  alpha?: tf.Tensor1D,
): tf.Tensor4D {
  const explicit = (
    pad === 0
      ? 'valid'
      : [
          [0, 0],
          [pad, pad],
          [pad, pad],
          [0, 0],
        ]
  ) as 'valid';
  if (tf.getBackend() === 'wasm' && tf.getKernel(DEPTHWISE_BIAS_ACT, 'wasm') !== undefined) {
    const inputs: Record<string, tf.Tensor> = { x, filter, bias };
    if (alpha) inputs['alpha'] = alpha;
    return tf.engine().runKernel(DEPTHWISE_BIAS_ACT, inputs, { strides: stride, pad: explicit }) as tf.Tensor4D;
  }
  return tf.fused.depthwiseConv2d({
    x,
    filter,
    strides: stride,
    pad: explicit,
    bias,
    activation: alpha ? 'prelu' : 'linear',
    ...(alpha ? { preluActivationWeights: alpha } : {}),
  });
}
