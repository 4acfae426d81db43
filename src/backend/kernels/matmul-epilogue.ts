import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { gemmNN } from './gemm.js';
import { ptr, wasmKernel, type KernelArgs, type WasmBackend } from './wasm-util.js';

/**
 * An evaluation-mode 1 x 1 conv block as one product: y = prelu(a b + bias) + res, for a [M, K],
 * b [K, N], bias [N], optional alpha [N] (PReLU slopes) and res [M, N] (a residual added after a
 * linear block). BatchNorm is folded into b and bias beforehand (src/model/inference/fold.ts).
 * On wasm csrc/exp_kernels.c `gemm_nn_p` / `gemm_nn_ep` apply the bias, PReLU and residual to each register
 * tile as it is stored, so the block costs the product alone; separately they are one more
 * pass over the output each. No gradient: inference only.
 */
export const MATMUL_BIAS_ACT = 'ExpAsdMatMulBiasAct';

function matMulBiasActKernel({ inputs, backend }: KernelArgs): TensorInfo {
  const b = backend as WasmBackend;
  const {
    a,
    b: w,
    bias,
    alpha,
    res,
  } = inputs as Record<'a' | 'b' | 'bias', TensorInfo> & Partial<Record<'alpha' | 'res', TensorInfo>>;
  const m = a.shape[0]!;
  const n = w.shape[1]!;
  const out = b.makeOutput([m, n], 'float32');
  const opt = (t: TensorInfo | undefined) => (t ? ptr(b, t) : 0);
  gemmNN(b, a, w, out, { bias: ptr(b, bias), alpha: opt(alpha), res: opt(res) });
  return out;
}

export const matMulBiasActConfig = wasmKernel(MATMUL_BIAS_ACT, matMulBiasActKernel);

/** Whether the fused kernel serves these operands (wasm, float32, 2-D, matching sizes, K > 0). */
function fusedAvailable(
  a: tf.Tensor2D,
  w: tf.Tensor2D,
  bias: tf.Tensor1D,
  alpha?: tf.Tensor1D,
  res?: tf.Tensor2D,
): boolean {
  const n = w.shape[1];
  return (
    tf.getBackend() === 'wasm' &&
    tf.getKernel(MATMUL_BIAS_ACT, 'wasm') !== undefined &&
    [a, w, bias, alpha, res].every((t) => t === undefined || t.dtype === 'float32') &&
    a.shape[1] === w.shape[0] &&
    a.shape[1] > 0 &&
    bias.shape[0] === n &&
    (alpha === undefined || alpha.shape[0] === n) &&
    (res === undefined || (res.shape[0] === a.shape[0] && res.shape[1] === n))
  );
}

/**
 * prelu(a w + bias) + res (alpha, res optional): one kernel on wasm, the same ops elsewhere
 * (the reference the kernel is tested against).
 */
export function matMulBiasAct(
  a: tf.Tensor2D,
  w: tf.Tensor2D,
  bias: tf.Tensor1D,
  alpha?: tf.Tensor1D,
  res?: tf.Tensor2D,
): tf.Tensor2D {
  if (fusedAvailable(a, w, bias, alpha, res)) {
    const inputs: Record<string, tf.Tensor> = { a, b: w, bias };
    if (alpha) inputs['alpha'] = alpha;
    if (res) inputs['res'] = res;
    return tf.engine().runKernel(MATMUL_BIAS_ACT, inputs) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    let y = tf.add(tf.matMul(a, w), bias) as tf.Tensor2D;
    if (alpha) y = tf.prelu(y, alpha as tf.Tensor as tf.Tensor2D);
    return res ? tf.add(y, res) : y;
  });
}
