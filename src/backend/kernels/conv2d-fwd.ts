import type { TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, withHeapGeometry, type ConvGeometry } from './conv-geometry.js';
import { ptr, free, reshape, run, sizeOf, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';
import { parallel } from './parallel.js';
import { gemmNN } from './gemm.js';
import { simd, withScratch } from './simd.js';

/**
 * Conv2D / FusedConv2D forward as im2col + our packed GEMM (csrc/exp_kernels.c `im2col`,
 * `gemm_nn_p`), the bias and PReLU of the fused conv applied as the GEMM's tiles are stored.
 * XNNPACK's conv ran MobileFaceNet's stem (3 x 3, stride 2, 4 -> 64 channels: K = 36) at ~10
 * GFLOP/s on one thread (measured, bench/kernels.ts); the patch matrix is small there and the
 * product runs at the GEMM's 45-50. Convs whose patch matrix would be large (> 64 MB), other
 * activations, dilations and non-float32 inputs go to the originals.
 */
const MAX_COLS_BYTES = 64 << 20;

type Epilogue = { bias: number; alpha: number; res: number };

function served(x: TensorInfo, filter: TensorInfo, g: ConvGeometry): boolean {
  return (
    x.dtype === 'float32' &&
    filter.dtype === 'float32' &&
    g.dh === 1 &&
    g.dw === 1 &&
    4 * g.n * g.ho * g.wo * g.kh * g.kw * g.ci <= MAX_COLS_BYTES
  );
}

/** The stem's geometry, which conv_c4 runs directly: 4 input channels, 3 columns, strides 1-2, outputs in eights. */
function directServed(g: ConvGeometry): boolean {
  return g.ci === 4 && g.kw === 3 && g.sw <= 2 && g.co % 8 === 0 && g.top >= 0 && g.left >= 0;
}

/**
 * conv_c4: the product of the patch matrix and the filter without writing the patch matrix
 * (same sums in the same order as im2col + gemm_nn_p); the filter packed into 8-column strips.
 */
function convDirect(
  backend: WasmBackend,
  x: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  ep: Epilogue,
): TensorInfo {
  const k = g.kh * g.kw * g.ci;
  const out = backend.makeOutput([g.n, g.ho, g.wo, g.co], 'float32');
  withScratch(
    backend,
    4 * k * g.co,
    (packed) => {
      simd(backend).pack_strips(ptr(backend, filter), packed, k, g.co, 8, g.co, 0, g.co / 8);
      withHeapGeometry(backend, g, (geo) => {
        const args = [ptr(backend, x), packed, ep.bias, ep.alpha, ptr(backend, out), g.co, geo];
        parallel(backend, 'conv_c4', g.n * g.ho, args, 1, 2);
      });
    },
    false,
  );
  return out;
}

function convForward(
  backend: WasmBackend,
  x: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  ep: Epilogue,
): TensorInfo {
  if (ep.res === 0 && directServed(g)) return convDirect(backend, x, filter, g, ep);
  const m = g.n * g.ho * g.wo;
  const k = g.kh * g.kw * g.ci;
  const cols = backend.makeOutput([m, k], 'float32');
  withHeapGeometry(backend, g, (geo) => {
    parallel(backend, 'im2col', m, [ptr(backend, x), ptr(backend, cols), geo], 1, 512);
  });
  const w2 = reshape(backend, filter, [k, g.co]);
  const out = backend.makeOutput([g.n, g.ho, g.wo, g.co], 'float32');
  const out2 = reshape(backend, out, [m, g.co]);
  gemmNN(backend, cols, w2, out2, ep);
  free(backend, cols, w2, out2);
  return out;
}

function conv2D(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const g = convGeometry(x.shape, filter.shape, args.attrs ?? {}, false);
  if (!served(x, filter, g)) return run(backend, 'Conv2D', args.inputs, args.attrs);
  return convForward(backend, x, filter, g, { bias: 0, alpha: 0, res: 0 });
}

function fusedConv2D(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<'x' | 'filter', TensorInfo> &
    Partial<Record<'bias' | 'preluActivationWeights', TensorInfo>>;
  const attrs = args.attrs ?? {};
  const activation = attrs['activation'] as string | undefined;
  const g = convGeometry(x.shape, filter.shape, attrs, false);
  const perChannel = (t: TensorInfo | undefined) =>
    t === undefined || (t.dtype === 'float32' && sizeOf(t.shape) === g.co);
  const ok =
    served(x, filter, g) &&
    (activation === undefined || activation === 'linear' || (activation === 'prelu' && preluActivationWeights)) &&
    perChannel(bias) &&
    perChannel(preluActivationWeights);
  if (!ok) return run(backend, 'FusedConv2D', args.inputs, attrs);
  const alpha = activation === 'prelu' && preluActivationWeights ? ptr(backend, preluActivationWeights) : 0;
  return convForward(backend, x, filter, g, { bias: bias ? ptr(backend, bias) : 0, alpha, res: 0 });
}

export const conv2DConfig = wasmKernel('Conv2D', conv2D);
export const fusedConv2DConfig = wasmKernel('FusedConv2D', fusedConv2D);
