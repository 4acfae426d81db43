import * as tf from '@tensorflow/tfjs';
import { BN_EPS, type BatchNormParams } from '../nn.js';
import { dft2RealTimeMajor, idft2RealTimeMajor } from '../dft.js';
import { spectralAct, spectralActAvailable, spectralActRegistered } from '../../backend/kernels/spectral-act.js';

/** SpecNet's weights as the branch holds them (src/model/branches/specnet.ts). */
export interface SpectralWeights {
  c1: { re: tf.Variable; im: tf.Variable };
  c2: { re: tf.Variable; im: tf.Variable };
  bnRe: BatchNormParams;
  bnIm: BatchNormParams;
}

/**
 * SpecNet's F_S = F_LM + real(IDFT2(C2 tanh(BN(C1 DFT2(F_LM))))) in evaluation mode, the same
 * function with the same half-spectrum transforms as the training graph (src/model/dft.ts), exact
 * up to float rounding, with the per-element work folded:
 * - the spectral BatchNorms (running statistics) fold into C1 per part, and
 *   tanh(z) = 2 sigmoid(2 z) - 1 folds its affine parts into C1 and C2 (tfjs's wasm tanh is a
 *   scalar loop, its sigmoid a vectorised one).
 * The spectrum is time-major ([B, T, M]); the weights are transposed to match once.
 * On wasm the whole element-wise step, tanh included, is one kernel (ExpAsdSpectralAct) over
 * weights folded the same way without the sigmoid's affine parts.
 */
export class FoldedSpectral {
  /** Pre-activation of the real part: 2 (a_re (Fr C1re - Fi C1im) + b_re) = Fr kr1 - Fi kr2 + br. */
  private readonly kr1: tf.Tensor2D;
  private readonly kr2: tf.Tensor2D;
  private readonly br: tf.Tensor;
  /** Imaginary part: 2 (a_im (Fr C1im + Fi C1re) + b_im) = Fr ki1 + Fi ki2 + bi. */
  private readonly ki1: tf.Tensor2D;
  private readonly ki2: tf.Tensor2D;
  private readonly bi: tf.Tensor;
  /** With u = sigmoid(pre): Zr = ur P - ui Q + R, Zi = ur Q + ui P + S (P = 2 C2re, Q = 2 C2im). */
  private readonly p: tf.Tensor2D;
  private readonly q: tf.Tensor2D;
  private readonly r: tf.Tensor2D;
  private readonly s: tf.Tensor2D;
  /** The fused kernel's operands: [a_re C1re, a_re C1im, a_im C1im, a_im C1re, C2re, C2im] as [6, T M], [b_re, b_im]. */
  private readonly fused: { w: tf.Tensor2D; bias: tf.Tensor1D } | null;

  constructor(w: SpectralWeights) {
    const t2 = (v: tf.Variable) => tf.transpose(v as tf.Tensor as tf.Tensor2D) as tf.Tensor2D;
    const affine = (bn: BatchNormParams) => {
      const a = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.runningVar, BN_EPS)));
      return { a2: tf.mul(a, 2), b2: tf.mul(tf.sub(bn.beta, tf.mul(bn.runningMean, a)), 2) };
    };
    [this.kr1, this.kr2, this.br, this.ki1, this.ki2, this.bi, this.p, this.q, this.r, this.s] = tf.tidy(() => {
      const [c1r, c1i, c2r, c2i] = [t2(w.c1.re), t2(w.c1.im), t2(w.c2.re), t2(w.c2.im)];
      const re = affine(w.bnRe);
      const im = affine(w.bnIm);
      return [
        tf.mul(c1r, re.a2),
        tf.mul(c1i, re.a2),
        re.b2,
        tf.mul(c1i, im.a2),
        tf.mul(c1r, im.a2),
        im.b2,
        tf.mul(c2r, 2),
        tf.mul(c2i, 2),
        tf.sub(c2i, c2r),
        tf.neg(tf.add(c2i, c2r)),
      ].map((t) => tf.keep(t)) as [
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor,
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor,
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
      ];
    });
    // Kept (above): a fold may be made inside a caller's tidy and must outlive it.
    const scalarBn = w.bnRe.beta.size === 1 && w.bnIm.beta.size === 1;
    this.fused = !scalarBn || !spectralActRegistered() ? null : tf.tidy(() => packFused(w, t2));
  }

  /** F_S of a log-Mel batch [B, M, T]. */
  apply(lm: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const { re: fr, im: fi } = dft2RealTimeMajor(lm);
      if (this.fused && spectralActAvailable(fr, fi, this.fused.w)) {
        const z = spectralAct(fr, fi, this.fused.w, this.fused.bias);
        return tf.add(lm, idft2RealTimeMajor(z)) as tf.Tensor3D;
      }
      const ur = tf.sigmoid(tf.add(tf.sub(tf.mul(fr, this.kr1), tf.mul(fi, this.kr2)), this.br));
      const ui = tf.sigmoid(tf.add(tf.add(tf.mul(fr, this.ki1), tf.mul(fi, this.ki2)), this.bi));
      const zr = tf.add(tf.sub(tf.mul(ur, this.p), tf.mul(ui, this.q)), this.r) as tf.Tensor3D;
      const zi = tf.add(tf.add(tf.mul(ur, this.q), tf.mul(ui, this.p)), this.s) as tf.Tensor3D;
      return tf.add(lm, idft2RealTimeMajor({ re: zr, im: zi })) as tf.Tensor3D;
    });
  }

  dispose(): void {
    tf.dispose([this.kr1, this.kr2, this.br, this.ki1, this.ki2, this.bi, this.p, this.q, this.r, this.s]);
    if (this.fused) tf.dispose([this.fused.w, this.fused.bias]);
  }
}

/** The fused kernel's operands (see FoldedSpectral.fused), kept beyond the caller's tidy. */
function packFused(w: SpectralWeights, t2: (v: tf.Variable) => tf.Tensor2D): { w: tf.Tensor2D; bias: tf.Tensor1D } {
  const [c1r, c1i, c2r, c2i] = [t2(w.c1.re), t2(w.c1.im), t2(w.c2.re), t2(w.c2.im)];
  const ab = (bn: BatchNormParams) => {
    const a = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.runningVar, BN_EPS)));
    return { a, b: tf.sub(bn.beta, tf.mul(bn.runningMean, a)) };
  };
  const re = ab(w.bnRe);
  const im = ab(w.bnIm);
  const parts = [tf.mul(c1r, re.a), tf.mul(c1i, re.a), tf.mul(c1i, im.a), tf.mul(c1r, im.a), c2r, c2i];
  const packed = tf.stack(parts).reshape([6, c1r.size]) as tf.Tensor2D;
  const bias = tf.concat([re.b.reshape([1]), im.b.reshape([1])]) as tf.Tensor1D;
  return { w: tf.keep(packed), bias: tf.keep(bias) };
}
