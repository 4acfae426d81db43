import * as tf from '@tensorflow/tfjs';
import { BaseModule } from '../../model/module.js';
import type { ForwardContext } from '../../model/types.js';
import { ActNorm, Coupling, InvConv1x1, squeeze, unsqueeze, type FlowLayer, type WeightMaker } from './layers.js';

export interface GlowArgs {
  /** Input image [N, height, width, 1]; both must be divisible by 2^levels. */
  height: number;
  width: number;
  levels: number;
  steps: number;
  hidden: number;
  affine: boolean;
  /** Classes of the ID-conditioned top prior (the machine type's IDs). */
  classes: number;
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Multi-scale Glow (Kingma & Dhariwal 2018, after RealNVP): per level a squeeze, K steps of
 * (actnorm, invertible 1x1 conv, coupling), then all but the last level factor out half of the
 * channels under a standard normal. The top latent has an ID-conditioned diagonal Gaussian (a
 * learned mean and log-std per machine ID and channel, zero-initialised: Glow's class-conditional
 * prior), so log p(x | k) is available for every ID k of the type.
 */
export class Glow extends BaseModule {
  private readonly levels: FlowLayer[][] = [];
  private readonly priorMean: tf.Variable;
  private readonly priorLogStd: tf.Variable;
  readonly dims: number;

  constructor(
    name: string,
    seed: number,
    private readonly args: GlowArgs,
  ) {
    super(name, seed);
    const maker: WeightMaker = {
      init: this.init,
      param: (p, v) => this.param(p, v),
      buffer: (p, v) => this.buffer(p, v),
    };
    let c = 1;
    for (let l = 0; l < args.levels; l++) {
      c *= 4;
      const steps: FlowLayer[] = [];
      for (let k = 0; k < args.steps; k++) {
        const at = `level${l}/step${k}`;
        steps.push(
          new ActNorm(maker, `${at}/actnorm`, c),
          new InvConv1x1(maker, `${at}/invconv`, c),
          new Coupling(maker, `${at}/coupling`, c, args.hidden, args.affine),
        );
      }
      this.levels.push(steps);
      if (l < args.levels - 1) c /= 2;
    }
    this.priorMean = this.param('prior/mean', this.init.constant([args.classes, c], 0));
    this.priorLogStd = this.param('prior/logStd', this.init.constant([args.classes, c], 0));
    this.dims = args.height * args.width;
  }

  /**
   * Runs the flow: log|det| plus the factored-out halves' standard-normal log-density per example
   * [N], and the top latent z [N, h, w, C].
   */
  encode(x: tf.Tensor4D, ctx: ForwardContext): { base: tf.Tensor1D; z: tf.Tensor4D } {
    let h = x;
    let base = tf.zeros([x.shape[0]]) as tf.Tensor1D;
    this.levels.forEach((steps, l) => {
      h = squeeze(h);
      for (const layer of steps) {
        const r = layer.forward(h, ctx);
        h = r.y;
        base = tf.add(base, r.logdet);
      }
      if (l < this.levels.length - 1) {
        const [n, hh, w, c] = h.shape;
        const out = tf.slice(h, [0, 0, 0, c / 2], [n, hh, w, c / 2]);
        base = tf.add(base, tf.sum(tf.mul(tf.square(out), -0.5), [1, 2, 3]).sub((HALF_LOG_2PI * out.size) / n));
        h = tf.slice(h, [0, 0, 0, 0], [n, hh, w, c / 2]);
      }
    });
    return { base, z: h };
  }

  /**
   * log N(z; mu_k, sigma_k) summed over the top latent, for every ID k: [N, classes]. Expanded
   * per channel as sum_hw (z - mu)^2 = S2 - 2 mu S1 + hw mu^2, so all IDs cost two matmuls.
   */
  topLogProbAll(z: tf.Tensor4D): tf.Tensor2D {
    const [, h, w] = z.shape;
    const hw = h * w;
    const s1 = tf.sum(z, [1, 2]) as tf.Tensor2D; // [N, C]
    const s2 = tf.sum(tf.square(z), [1, 2]) as tf.Tensor2D;
    const invVar = tf.exp(tf.mul(this.priorLogStd, -2)) as tf.Tensor2D; // [K, C]
    const quad = tf
      .matMul(s2, invVar, false, true)
      .sub(tf.matMul(s1, tf.mul(this.priorMean, invVar) as tf.Tensor2D, false, true).mul(2))
      .add(tf.sum(tf.mul(tf.square(this.priorMean), invVar), 1).mul(hw));
    const norm = tf
      .sum(this.priorLogStd, 1)
      .mul(hw)
      .add(HALF_LOG_2PI * hw * z.shape[3]);
    return tf.sub(tf.mul(quad, -0.5), norm) as tf.Tensor2D;
  }

  /** log p(x | k) for every ID k, [N, classes], in nats. */
  logLikelihoods(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D {
    const { base, z } = this.encode(x, ctx);
    return tf.add(this.topLogProbAll(z), base.reshape([-1, 1])) as tf.Tensor2D;
  }

  /** The input recovered from the full latent (tests: the flow is invertible). */
  decode(z: tf.Tensor4D, factored: tf.Tensor4D[]): tf.Tensor4D {
    let h = z;
    for (let l = this.levels.length - 1; l >= 0; l--) {
      if (l < this.levels.length - 1) h = tf.concat([h, factored[l]!], 3);
      for (const layer of [...this.levels[l]!].reverse()) h = layer.inverse(h);
      h = unsqueeze(h);
    }
    return h;
  }

  /** Host-side work of the layers after a weight update (the 1x1 convolutions' log|det W| and W^-1). */
  async prepare(): Promise<void> {
    for (const layer of this.levels.flat()) await layer.prepare?.();
  }

  override dispose(): void {
    for (const layer of this.levels.flat()) layer.dispose?.();
    super.dispose();
  }

  /** Forward pass keeping the factored-out halves, for decode (tests). */
  encodeAll(x: tf.Tensor4D): { z: tf.Tensor4D; factored: tf.Tensor4D[]; logdet: tf.Tensor1D } {
    const ctx: ForwardContext = { training: false, updates: [] };
    let h = x;
    let logdet = tf.zeros([x.shape[0]]) as tf.Tensor1D;
    const factored: tf.Tensor4D[] = [];
    this.levels.forEach((steps, l) => {
      h = squeeze(h);
      for (const layer of steps) {
        const r = layer.forward(h, ctx);
        h = r.y;
        logdet = tf.add(logdet, r.logdet);
      }
      if (l < this.levels.length - 1) {
        const [n, hh, w, c] = h.shape;
        factored.push(tf.slice(h, [0, 0, 0, c / 2], [n, hh, w, c / 2]));
        h = tf.slice(h, [0, 0, 0, 0], [n, hh, w, c / 2]);
      }
    });
    return { z: h, factored, logdet };
  }
}
