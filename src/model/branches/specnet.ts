import * as tf from '@tensorflow/tfjs';
import type { BranchArgs, ClipGeometry, FeatureBranch, ForwardContext, ModelInputs } from '../types.js';
import { BaseModule } from '../module.js';
import { batchNorm, type BatchNormParams } from '../nn.js';
import { dft2RealTimeMajor, idft2RealTimeMajor, type Complex3D } from '../dft.js';
import { FoldedSpectral } from '../inference/specnet.js';
import { complexMulFused, fusedComplexMulAvailable } from '../../backend/kernels/complex-mul.js';
import type { FoldedBranch } from '../inference/types.js';

/**
 * Init of the FourierConv2D weights: real and imaginary parts ~ N(0, 0.02^2). The paper gives no
 * init; small weights make S^ small at the start, so F_S starts close to F_LM through the
 * residual and the branch learns a correction.
 */
export const FOURIER_INIT_STD = 0.02;

/**
 * SpecNet (§2.1.4): F^ = DFT2(F_LM); S^ = C2(tanh(SpectralBN(C1(F^)))); F_S = real(IDFT2(F^ + S^)).
 * - C1, C2 (FourierConv2D): point-wise multiplication by a learned complex weight of the full
 *   spectrum's shape [M, T] (2 x 2 x M x T weights: 160 k for 128 x 313, Table 5's step).
 * - SpectralBN: batch norm on the real and on the imaginary part separately, each a
 *   BatchNorm2d with one channel (statistics over the batch and the whole map), PyTorch semantics.
 * - tanh on the real and imaginary parts separately.
 * - By linearity real(IDFT2(F^ + S^)) = F_LM + real(IDFT2(S^)): we compute the right-hand side,
 *   which saves one inverse transform and returns F_LM exactly when S^ = 0.
 * logmel [B, M, T] -> [B, M, T]; the weights follow T (the clip length).
 */
export class SpecNetBranch extends BaseModule implements FeatureBranch {
  private readonly c1: { re: tf.Variable; im: tf.Variable };
  private readonly c2: { re: tf.Variable; im: tf.Variable };
  private readonly bnRe: BatchNormParams;
  private readonly bnIm: BatchNormParams;

  constructor(
    name: string,
    seed: number,
    readonly clip: ClipGeometry,
  ) {
    super(name, seed);
    const shape = [clip.nMels, clip.frames];
    this.c1 = {
      re: this.param('c1/re', this.init.normal(shape, FOURIER_INIT_STD)),
      im: this.param('c1/im', this.init.normal(shape, FOURIER_INIT_STD)),
    };
    this.bnRe = this.batchNormParams('bn/re', 1);
    this.bnIm = this.batchNormParams('bn/im', 1);
    this.c2 = {
      re: this.param('c2/re', this.init.normal(shape, FOURIER_INIT_STD)),
      im: this.param('c2/im', this.init.normal(shape, FOURIER_INIT_STD)),
    };
  }

  /** F_S of a log-Mel batch. */
  spectral(logmel: tf.Tensor3D, ctx: ForwardContext): tf.Tensor3D {
    return tf.tidy(() => {
      // The spectrum is time-major ([B, T, M], src/model/dft.ts); the [M, T] weights are
      // transposed to match (the BatchNorms' statistics cover the whole map either way).
      const f = dft2RealTimeMajor(logmel);
      let s = fourierConv(f, timeMajor(this.c1));
      s = {
        re: tf.tanh(spectralBn(s.re, this.bnRe, ctx)),
        im: tf.tanh(spectralBn(s.im, this.bnIm, ctx)),
      };
      s = fourierConv(s, timeMajor(this.c2));
      return tf.add(logmel, idft2RealTimeMajor(s));
    });
  }

  apply(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor3D {
    return this.spectral(inputs.logmel, ctx);
  }

  /** spectral() in evaluation mode with fewer products and the BatchNorms folded (src/model/inference/specnet.ts). */
  protected foldSpectral(): FoldedSpectral {
    return new FoldedSpectral({ c1: this.c1, c2: this.c2, bnRe: this.bnRe, bnIm: this.bnIm });
  }

  fold(): FoldedBranch {
    const spectral = this.foldSpectral();
    return { apply: (inputs) => spectral.apply(inputs.logmel), dispose: () => spectral.dispose() };
  }
}

interface ComplexWeight {
  re: tf.Tensor;
  im: tf.Tensor;
}

/** A FourierConv2D weight [M, T] as [T, M]. */
function timeMajor(w: { re: tf.Variable; im: tf.Variable }): ComplexWeight {
  return { re: tf.transpose(w.re), im: tf.transpose(w.im) };
}

/** FourierConv2D: (a + ib)(w + iv) = (aw - bv) + i(av + bw), weights broadcast over the batch. */
function fourierConv(x: Complex3D, w: ComplexWeight): Complex3D {
  // On wasm one fused kernel with its own gradient (src/backend/kernels/complex-mul.ts; same math).
  if (fusedComplexMulAvailable(x.re, x.im, w.re, w.im)) return complexMulFused(x.re, x.im, w.re, w.im);
  return {
    re: tf.sub(tf.mul(x.re, w.re), tf.mul(x.im, w.im)),
    im: tf.add(tf.mul(x.re, w.im), tf.mul(x.im, w.re)),
  };
}

/** BatchNorm2d(1) on one part of the spectrum: [B, T, M] viewed as [B, T, M, 1]. */
function spectralBn(x: tf.Tensor3D, p: BatchNormParams, ctx: ForwardContext): tf.Tensor3D {
  const [b, m, t] = x.shape;
  return batchNorm(x.reshape([b, m, t, 1]), p, ctx).reshape([b, m, t]);
}

export function createSpecNetBranch(args: BranchArgs): FeatureBranch {
  return new SpecNetBranch(args.name, args.seed, args.clip);
}
