import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import { i32At, withScratch } from './simd.js';
import type { WasmBackend } from './wasm-util.js';

/** Output geometry of a 2-D (or depthwise) conv, from tfjs's own helper so padding matches. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  ho: number;
  wo: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
}

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: NamedAttrMap,
  depthwise: boolean,
): ConvGeometry {
  if (attrs['dataFormat'] !== undefined && attrs['dataFormat'] !== 'NHWC') {
    throw new Error(`wasm training kernels support NHWC only, got ${String(attrs['dataFormat'])}`);
  }
  const strides = attrs['strides'] as number | [number, number];
  const dilations = (attrs['dilations'] as number | [number, number] | undefined) ?? 1;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    attrs['pad'] as Pad,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    ho: info.outHeight,
    wo: info.outWidth,
    co: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * The geometry as the int32 block csrc/exp_kernels.c's conv kernels read (`geo`: n, h, w, ci, ho,
 * wo, kh, kw, sh, sw, dh, dw, top, left), in heap scratch for the duration of `fn`.
 */
export function withHeapGeometry<T>(backend: WasmBackend, g: ConvGeometry, fn: (geo: number) => T): T {
  const fields = [g.n, g.h, g.w, g.ci, g.ho, g.wo, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.top, g.left];
  return withScratch(backend, fields.length * 4, (geo) => {
    i32At(backend, geo, fields.length).set(fields);
    return fn(geo);
  });
}
