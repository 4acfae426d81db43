import * as tf from '@tensorflow/tfjs';
import type { Init } from '../../model/init.js';
import type { ForwardContext } from '../../model/types.js';
import { conv2d } from '../../model/nn.js';
import { logAbsDetAndInverse, randomOrthogonal } from './linalg.js';

/**
 * The three layers of a Glow step of flow (Kingma & Dhariwal, NeurIPS 2018, §3): actnorm, an
 * invertible 1x1 convolution and a coupling layer. Each maps x [N, H, W, C] to y of the same shape
 * and returns log|det dy/dx| per example [N]; `inverse` undoes `forward` (used by tests and for
 * sampling, never in training).
 */
export interface FlowLayer {
  forward(x: tf.Tensor4D, ctx: ForwardContext): { y: tf.Tensor4D; logdet: tf.Tensor1D };
  inverse(y: tf.Tensor4D): tf.Tensor4D;
  /** Host-side work after the weights changed, awaited before `forward` and `inverse`. */
  prepare?(): Promise<void>;
  /** Frees what the layer holds beside its registered weights. */
  dispose?(): void;
}

/** How a layer registers its weights (BaseModule.param / buffer under a path). */
export interface WeightMaker {
  init: Init;
  param(path: string, v: tf.Variable): tf.Variable;
  buffer(path: string, v: tf.Variable): tf.Variable;
}

const pixels = (x: tf.Tensor4D): number => x.shape[1] * x.shape[2];

/**
 * Actnorm: y = (x + b) * exp(logs) per channel, initialised from the first training batch so
 * that y has zero mean and unit variance per channel (Glow §3.1). The "initialised" flag is state,
 * so a resumed run does not initialise twice.
 */
export class ActNorm implements FlowLayer {
  private readonly bias: tf.Variable;
  private readonly logs: tf.Variable;
  private readonly done: tf.Variable;
  private ready = false;

  constructor(w: WeightMaker, path: string, channels: number) {
    this.bias = w.param(`${path}/bias`, w.init.constant([channels], 0));
    this.logs = w.param(`${path}/logs`, w.init.constant([channels], 0));
    this.done = w.buffer(`${path}/initialised`, w.init.constant([1], 0, false));
  }

  forward(x: tf.Tensor4D, ctx: ForwardContext) {
    if (ctx.training && !this.ready) {
      // Initialise unless the stored flag says it was (a resumed run), without reading the flag
      // back: d * old + (1 - d) * init is exactly one or the other for d in {0, 1}.
      tf.tidy(() => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const d = this.done;
        const keep = (old: tf.Tensor, init: tf.Tensor) => tf.add(tf.mul(d, old), tf.mul(tf.sub(1, d), init));
        this.bias.assign(keep(this.bias, mean.neg()));
        this.logs.assign(keep(this.logs, tf.log(tf.sqrt(variance).add(1e-6)).neg()));
        this.done.assign(tf.ones([1]));
      });
      this.ready = true;
    }
    const y = tf.mul(tf.add(x, this.bias), tf.exp(this.logs)) as tf.Tensor4D;
    const logdet = tf.sum(this.logs).mul(pixels(x)).reshape([1]).tile([x.shape[0]]) as tf.Tensor1D;
    return { y, logdet };
  }

  inverse(y: tf.Tensor4D): tf.Tensor4D {
    return tf.sub(tf.mul(y, tf.exp(tf.neg(this.logs))), this.bias) as tf.Tensor4D;
  }
}

/** log|det W| and W^-1 of one value of W (its tfjs data id), computed on the host in float64. */
interface InverseCache {
  of: object;
  logAbsDet: number;
  inverse: tf.Tensor2D;
  inverseT: tf.Tensor2D;
}

/**
 * Invertible 1x1 convolution (Glow §3.2): y = x W over channels; log-det = H W log|det W|.
 * log|det W| and its gradient W^-T (d log|det W| / dW) are computed in plain JS (W is C x C with
 * small C, and tfjs has neither a determinant nor an inverse) by `prepare`, which reads W back
 * asynchronously once per weight update: inside the gradient tape nothing can wait for a read.
 */
export class InvConv1x1 implements FlowLayer {
  private readonly w: tf.Variable;
  private cache: InverseCache | null = null;
  private readonly logAbsDet: (w: tf.Tensor) => tf.Tensor;

  constructor(
    maker: WeightMaker,
    private readonly path: string,
    private readonly channels: number,
  ) {
    const data = randomOrthogonal(channels, () => maker.init.rng.gaussian());
    this.w = maker.param(`${path}/w`, tf.variable(tf.tensor2d(data, [channels, channels]), true));
    this.logAbsDet = tf.customGrad(((_w: tf.Tensor) => {
      const c = this.current();
      return { value: tf.scalar(c.logAbsDet), gradFunc: (dy: tf.Tensor) => tf.mul(dy, c.inverseT) };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as (w: tf.Tensor) => tf.Tensor;
  }

  async prepare(): Promise<void> {
    const of = this.w.dataId;
    if (this.cache?.of === of) return;
    const { logAbsDet, inverse } = logAbsDetAndInverse(await this.w.data(), this.channels);
    if (this.cache) tf.dispose([this.cache.inverse, this.cache.inverseT]);
    const inv = tf.tensor2d(Float32Array.from(inverse), [this.channels, this.channels]);
    this.cache = { of, logAbsDet, inverse: inv, inverseT: inv.transpose() };
  }

  dispose(): void {
    if (this.cache) tf.dispose([this.cache.inverse, this.cache.inverseT]);
    this.cache = null;
  }

  private current(): InverseCache {
    if (this.cache?.of !== this.w.dataId)
      throw new Error(
        `${this.path}: the 1x1 convolution's weights changed; await prepare() before the next forward pass`,
      );
    return this.cache;
  }

  forward(x: tf.Tensor4D) {
    const [n, h, wd, c] = x.shape;
    const y = tf.matMul(x.reshape([n * h * wd, c]), this.w).reshape([n, h, wd, c]) as tf.Tensor4D;
    const logdet = (this.logAbsDet(this.w) as tf.Scalar)
      .mul(h * wd)
      .reshape([1])
      .tile([n]) as tf.Tensor1D;
    return { y, logdet };
  }

  inverse(y: tf.Tensor4D): tf.Tensor4D {
    const [n, h, wd, c] = y.shape;
    return tf.matMul(y.reshape([n * h * wd, c]), this.current().inverse).reshape([n, h, wd, c]) as tf.Tensor4D;
  }
}

/**
 * Coupling (Glow §3.3): the first half of the channels passes unchanged and drives a small CNN
 * (3x3 conv -> ReLU -> 1x1 conv -> ReLU -> zero-initialised 3x3 conv) giving, for `affine`, a
 * shift t and scale s = sigmoid(h + 2) for the second half: y_b = (x_b + t) * s, log-det =
 * sum log s; for `additive`, y_b = x_b + t and log-det 0. The zero-initialised last conv makes
 * every coupling start near the identity (Glow §3.3): shift 0, scale sigmoid(2) = 0.88 (affine).
 */
export class Coupling implements FlowLayer {
  private readonly ca: number;
  private readonly cb: number;
  private readonly w1: tf.Variable;
  private readonly b1: tf.Variable;
  private readonly w2: tf.Variable;
  private readonly b2: tf.Variable;
  private readonly w3: tf.Variable;
  private readonly b3: tf.Variable;

  constructor(
    m: WeightMaker,
    path: string,
    channels: number,
    hidden: number,
    private readonly affine: boolean,
  ) {
    this.ca = Math.floor(channels / 2);
    this.cb = channels - this.ca;
    const out = affine ? 2 * this.cb : this.cb;
    this.w1 = m.param(`${path}/conv1/w`, m.init.normal([3, 3, this.ca, hidden], 0.05));
    this.b1 = m.param(`${path}/conv1/b`, m.init.constant([hidden], 0));
    this.w2 = m.param(`${path}/conv2/w`, m.init.normal([1, 1, hidden, hidden], 0.05));
    this.b2 = m.param(`${path}/conv2/b`, m.init.constant([hidden], 0));
    this.w3 = m.param(`${path}/conv3/w`, m.init.constant([3, 3, hidden, out], 0));
    this.b3 = m.param(`${path}/conv3/b`, m.init.constant([out], 0));
  }

  private split(x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
    const [n, h, w] = x.shape;
    return [tf.slice(x, [0, 0, 0, 0], [n, h, w, this.ca]), tf.slice(x, [0, 0, 0, this.ca], [n, h, w, this.cb])];
  }

  /** Shift and log-scale [N, H, W, cb] from the unchanged half. */
  private params(xa: tf.Tensor4D): { shift: tf.Tensor4D; logScale: tf.Tensor4D | null } {
    const h1 = tf.relu(tf.add(conv2d(xa, this.w1 as tf.Tensor as tf.Tensor4D, 1, 1), this.b1)) as tf.Tensor4D;
    const h2 = tf.relu(tf.add(conv2d(h1, this.w2 as tf.Tensor as tf.Tensor4D, 1, 0), this.b2)) as tf.Tensor4D;
    const h3 = tf.add(conv2d(h2, this.w3 as tf.Tensor as tf.Tensor4D, 1, 1), this.b3) as tf.Tensor4D;
    if (!this.affine) return { shift: h3, logScale: null };
    const [n, h, w] = h3.shape;
    const shift = tf.slice(h3, [0, 0, 0, 0], [n, h, w, this.cb]);
    const raw = tf.slice(h3, [0, 0, 0, this.cb], [n, h, w, this.cb]);
    // log(sigmoid(h + 2)) written out: tf.logSigmoid's gradient failed inside tf.variableGrads here (it read a freed tensor).
    return { shift, logScale: tf.neg(tf.softplus(tf.neg(tf.add(raw, 2)))) as tf.Tensor4D };
  }

  forward(x: tf.Tensor4D) {
    const [xa, xb] = this.split(x);
    const { shift, logScale } = this.params(xa);
    const shifted = tf.add(xb, shift);
    const yb = logScale ? tf.mul(shifted, tf.exp(logScale)) : shifted;
    const logdet = logScale ? (tf.sum(logScale, [1, 2, 3]) as tf.Tensor1D) : (tf.zeros([x.shape[0]]) as tf.Tensor1D);
    return { y: tf.concat([xa, yb as tf.Tensor4D], 3), logdet };
  }

  inverse(y: tf.Tensor4D): tf.Tensor4D {
    const [ya, yb] = this.split(y);
    const { shift, logScale } = this.params(ya);
    const unscaled = logScale ? tf.mul(yb, tf.exp(tf.neg(logScale))) : yb;
    return tf.concat([ya, tf.sub(unscaled, shift) as tf.Tensor4D], 3);
  }
}

/** Glow's squeeze: [N, H, W, C] -> [N, H/2, W/2, 4C], each 2x2 patch into the channels. */
export function squeeze(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return x
    .reshape([n, h / 2, 2, w / 2, 2, c])
    .transpose([0, 1, 3, 5, 2, 4])
    .reshape([n, h / 2, w / 2, 4 * c]);
}

export function unsqueeze(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c4] = x.shape;
  const c = c4 / 4;
  return x
    .reshape([n, h, w, c, 2, 2])
    .transpose([0, 1, 4, 2, 5, 3])
    .reshape([n, 2 * h, 2 * w, c]);
}
