import * as tf from '@tensorflow/tfjs';
import { BN_EPS, type BatchNormParams } from '../nn.js';
import { dftMatrices } from '../dft.js';

/** SpecNet's weights as the branch holds them (src/model/branches/specnet.ts). */
export interface SpectralWeights {
  c1: { re: tf.Variable; im: tf.Variable };
  c2: { re: tf.Variable; im: tf.Variable };
  bnRe: BatchNormParams;
  bnIm: BatchNormParams;
}

interface InferenceDft {
  /** [T, 2 Th]: the first Th = floor(T / 2) + 1 columns of C_T, then of S_T. */
  time: tf.Tensor2D;
  /** [M, 2M]: C_M then S_M. */
  mel: tf.Tensor2D;
  /** [2T, T]: C_T over -S_T, divided by M T (the inverse transform's scale). */
  inverse: tf.Tensor2D;
}

const cache = new Map<string, InferenceDft>();

function inferenceDft(m: number, t: number): InferenceDft {
  const key = `${m}x${t}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const th = Math.floor(t / 2) + 1;
  const [wm, wt] = [dftMatrices(m), dftMatrices(t)];
  const d: InferenceDft = tf.tidy(() => ({
    time: tf.keep(tf.concat([wt.cos.slice([0, 0], [t, th]), wt.sin.slice([0, 0], [t, th])], 1)),
    mel: tf.keep(tf.concat([wm.cos, wm.sin], 1)),
    inverse: tf.keep(tf.concat([wt.cos, tf.neg(wt.sin)], 0).mul(1 / (m * t)) as tf.Tensor2D),
  }));
  cache.set(key, d);
  return d;
}

/**
 * SpecNet's F_S = F_LM + real(IDFT2(C2 tanh(BN(C1 DFT2(F_LM))))) in evaluation mode, the same
 * function with fewer products than the training graph (src/model/dft.ts), exact up to float
 * rounding:
 * - the forward transform runs the time axis first on the real input and computes only the
 *   Th = floor(T / 2) + 1 non-redundant frequencies; the rest follow from conjugate symmetry,
 *   F[k, T - l] = conj(F[-k, l]) = sum_m W_M[k, m] conj(P[m, l]), whose real and imaginary parts
 *   are sums and differences of the same four products (C_M and S_M times P's two parts);
 * - the inverse runs the mel axis first and computes the time axis for the real part only;
 * - each product is one matmul (the cos and sin matrices side by side);
 * - the spectral BatchNorms (running statistics) fold into C1 per part, and
 *   tanh(z) = 2 sigmoid(2 z) - 1 folds its affine parts into C1 and C2 (tfjs's wasm tanh is a
 *   scalar loop, its sigmoid a vectorised one).
 * Products: 1.1 GFLOP per 8 clips of 128 x 313 against 1.9 in the training graph.
 * The spectrum is kept time-major ([B, T, M]); the weights are transposed to match once.
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
  }

  /** F_S of a log-Mel batch [B, M, T]. */
  apply(lm: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, m, t] = lm.shape;
      const th = Math.floor(t / 2) + 1;
      const tm = t - th;
      const d = inferenceDft(m, t);
      // P = F_LM W_T on the non-redundant frequencies: [P_re | -P_im], then mel-major -> time-major.
      const q = tf.matMul(lm.reshape([b * m, t]), d.time).reshape([b, m, 2 * th]);
      const r = tf.matMul(tf.transpose(q, [0, 2, 1]).reshape([b * 2 * th, m]), d.mel).reshape([b, 2 * th, 2 * m]);
      const part = (row: number, col: number) => tf.slice(r, [0, row, col], [b, th, m]);
      const [cPr, sPr, cQ, sQ] = [part(0, 0), part(0, m), part(th, 0), part(th, m)]; // Q = -P_im
      const mirror = (x: tf.Tensor) => tf.reverse(tf.slice(x, [0, 1, 0], [b, tm, m]), 1);
      const fr = tf.concat([tf.sub(cPr, sQ), mirror(tf.add(cPr, sQ))], 1);
      const fi = tf.concat([tf.neg(tf.add(cQ, sPr)), mirror(tf.sub(cQ, sPr))], 1);
      const ur = tf.sigmoid(tf.add(tf.sub(tf.mul(fr, this.kr1), tf.mul(fi, this.kr2)), this.br));
      const ui = tf.sigmoid(tf.add(tf.add(tf.mul(fr, this.ki1), tf.mul(fi, this.ki2)), this.bi));
      const zr = tf.add(tf.sub(tf.mul(ur, this.p), tf.mul(ui, this.q)), this.r);
      const zi = tf.add(tf.add(tf.mul(ur, this.q), tf.mul(ui, this.p)), this.s);
      // Mel axis of the inverse: A = conj(W_M) Z = (Zr C - Zi S) + i (Zr S + Zi C).
      const za = tf.matMul(tf.concat([zr, zi], 1).reshape([b * 2 * t, m]), d.mel).reshape([b, 2 * t, 2 * m]);
      const blk = (row: number, col: number) => tf.slice(za, [0, row, col], [b, t, m]);
      const ar = tf.sub(blk(0, 0), blk(t, m));
      const ai = tf.add(blk(0, m), blk(t, 0));
      // Time axis, real part only: Ar C_T - Ai S_T (scaled by 1 / (M T) in the matrix).
      const a = tf.transpose(tf.concat([ar, ai], 1), [0, 2, 1]).reshape([b * m, 2 * t]);
      return tf.add(lm, tf.matMul(a, d.inverse).reshape([b, m, t])) as tf.Tensor3D;
    });
  }

  dispose(): void {
    tf.dispose([this.kr1, this.kr2, this.br, this.ki1, this.ki2, this.bi, this.p, this.q, this.r, this.s]);
  }
}
