import * as tf from '@tensorflow/tfjs';
import type { BranchArgs, ClipGeometry, FeatureBranch, ForwardContext, ModelInputs } from '../types.js';
import { conv1d, linear } from '../nn.js';
import { SpecNetBranch } from './specnet.js';
import { sharedTemporalAttention } from './tagram.js';
import type { FoldedBranch } from '../inference/types.js';
import { fusedGatedMixAvailable, gatedMixFused } from '../../backend/kernels/gated-mix.js';

/**
 * F_S_enh (§2.2, frequency-gated attention): SpecNet's F_S fused with F_LM under a gate G built
 * from the temporal-attention map F_TA (§2.1.3, recomputed here; it has no weights):
 *   s_f = Concat(MaxPool_t(F_TA), AvgPool_t(F_TA))  (2M)    g_f = sigmoid(Linear(2M -> M)(s_f))
 *   g_t = sigmoid(Conv1D(1 -> 1, k = features.fga.timeKernel, 'same')(AvgPool_f(F_TA)))  (T)
 *   G = g_f (outer) g_t;   F_S_enh = (1 - lambda G) F_LM + lambda G F_S,  lambda = features.fga.lambda.
 * Linear and Conv1D carry a bias and PyTorch's default init U(+-1/sqrt(fan_in)) (not given in
 * the paper). SpecNet's weights are this module's own ("fga-spec/c1/re", ...).
 */
export class FgaSpecBranch extends SpecNetBranch {
  private readonly lambda: number;
  private readonly kernel: number;
  private readonly fw: tf.Variable;
  private readonly fb: tf.Variable;
  private readonly tw: tf.Variable;
  private readonly tb: tf.Variable;

  constructor(name: string, seed: number, clip: ClipGeometry, fga: { lambda: number; timeKernel: number }) {
    super(name, seed, clip);
    this.lambda = fga.lambda;
    this.kernel = fga.timeKernel;
    const m = clip.nMels;
    const fanF = 2 * m;
    this.fw = this.param('gate/freq/w', this.init.uniform([fanF, m], 1 / Math.sqrt(fanF)));
    this.fb = this.param('gate/freq/b', this.init.uniform([m], 1 / Math.sqrt(fanF)));
    this.tw = this.param('gate/time/w', this.init.uniform([this.kernel, 1, 1], 1 / Math.sqrt(this.kernel)));
    this.tb = this.param('gate/time/b', this.init.uniform([1], 1 / Math.sqrt(this.kernel)));
  }

  /** The gate G [B, M, T] of a log-Mel batch. */
  gate(logmel: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const { gf, gt } = this.gateFactors(logmel);
      return outer(gf, gt);
    });
  }

  /** G's factors: G[b, m, t] = gf[b, m] gt[b, t]. */
  private gateFactors(logmel: tf.Tensor3D, evaluation = false): { gf: tf.Tensor2D; gt: tf.Tensor2D } {
    return tf.tidy(() => {
      const [b, , t] = logmel.shape;
      const ta = sharedTemporalAttention(logmel, evaluation);
      const sf = tf.concat([tf.max(ta, 2), tf.mean(ta, 2)], 1) as tf.Tensor2D; // [B, 2M]
      const gf = tf.sigmoid(linear(sf, this.fw as tf.Tensor as tf.Tensor2D, this.fb as tf.Tensor as tf.Tensor1D)); // [B, M]
      const avgF = tf.mean(ta, 1).reshape([b, t, 1]) as tf.Tensor3D;
      const gt = tf.sigmoid(
        conv1d(avgF, this.tw as tf.Tensor as tf.Tensor3D, 1, 'same', this.tb as tf.Tensor as tf.Tensor1D),
      ); // [B, T, 1]
      return { gf, gt: gt.reshape([b, t]) as tf.Tensor2D };
    });
  }

  override apply(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor3D {
    return this.enhance(inputs.logmel, (lm) => this.spectral(lm, ctx), !ctx.training);
  }

  /** (1 - lambda G) F_LM + lambda G F_S = F_LM + lambda G (F_S - F_LM), with F_S from `spectral`. */
  private enhance(lm: tf.Tensor3D, spectral: (lm: tf.Tensor3D) => tf.Tensor3D, evaluation: boolean): tf.Tensor3D {
    return tf.tidy(() => {
      const fs = spectral(lm);
      const { gf, gt } = this.gateFactors(lm, evaluation);
      // On wasm one fused kernel with its own gradient (src/backend/kernels/gated-mix.ts; same math).
      if (fusedGatedMixAvailable(lm, fs, gf, gt)) return gatedMixFused(lm, fs, gf, gt, this.lambda);
      const g = tf.mul(outer(gf, gt), this.lambda);
      return tf.add(lm, tf.mul(g, tf.sub(fs, lm)));
    });
  }

  /** Evaluation mode: SpecNet folded (src/model/inference/specnet.ts); the gates have no BatchNorm and run as they are. */
  override fold(): FoldedBranch {
    const spectral = this.foldSpectral();
    return {
      apply: (inputs) => this.enhance(inputs.logmel, (lm) => spectral.apply(lm), true),
      dispose: () => spectral.dispose(),
    };
  }
}

/** G[b, m, t] = gf[b, m] gt[b, t]. */
function outer(gf: tf.Tensor2D, gt: tf.Tensor2D): tf.Tensor3D {
  const [b, m] = gf.shape;
  const t = gt.shape[1];
  return tf.mul(gf.reshape([b, m, 1]), gt.reshape([b, 1, t])) as tf.Tensor3D;
}

export function createFgaSpecBranch(args: BranchArgs): FeatureBranch {
  return new FgaSpecBranch(args.name, args.seed, args.clip, args.features.fga);
}
