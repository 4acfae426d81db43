import * as tf from '@tensorflow/tfjs';
import { BaseModule } from '../../model/module.js';
import type { ForwardContext } from '../../model/types.js';
import type { BatchNormParams } from '../../model/nn.js';
import { conv2d, depthwiseConv2d, batchNorm, linear } from '../../model/nn.js';

/**
 * MobileNetV2 (Sandler et al., CVPR 2018) as torchvision builds it: a 3x3 stride-2 stem, the
 * inverted-residual table below, a 1x1 conv to `lastChannels`, global average pooling and a
 * linear classifier; BatchNorm + ReLU6; channel counts = table x width multiplier rounded to a
 * multiple of 8 (torchvision's _make_divisible). Input: 1-channel log-Mel images.
 */

/** [expansion t, channels c, repeats n, stride s of the first], Sandler et al. Table 2. */
export const INVERTED_RESIDUALS: ReadonlyArray<readonly [number, number, number, number]> = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** torchvision's _make_divisible: nearest multiple of 8, never more than 10 % below v. */
export function makeDivisible(v: number, divisor = 8): number {
  const n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  return n < 0.9 * v ? n + divisor : n;
}

interface ConvBn {
  w: tf.Variable;
  bn: BatchNormParams;
  stride: number;
  depthwise: boolean;
  relu: boolean;
}

export interface MobileNetV2Args {
  width: number;
  lastChannels: number;
  classes: number;
  /** Input channels (1 for a log-Mel image; 3 reproduces torchvision's ImageNet model). */
  inChannels?: number;
}

export class MobileNetV2 extends BaseModule {
  private readonly blocks: Array<{ layers: ConvBn[]; residual: boolean }> = [];
  private readonly fcW: tf.Variable;
  private readonly fcB: tf.Variable;
  private n = 0;

  constructor(name: string, seed: number, args: MobileNetV2Args) {
    super(name, seed);
    let inp = makeDivisible(32 * args.width);
    this.blocks.push({ layers: [this.convBn(3, args.inChannels ?? 1, inp, 2, false, true)], residual: false });
    for (const [t, c, reps, s] of INVERTED_RESIDUALS) {
      const out = makeDivisible(c * args.width);
      for (let i = 0; i < reps; i++) {
        const stride = i === 0 ? s : 1;
        const hidden = Math.round(inp * t);
        const layers = [
          ...(t !== 1 ? [this.convBn(1, inp, hidden, 1, false, true)] : []),
          this.convBn(3, hidden, hidden, stride, true, true),
          this.convBn(1, hidden, out, 1, false, false),
        ];
        this.blocks.push({ layers, residual: stride === 1 && inp === out });
        inp = out;
      }
    }
    const last = makeDivisible(args.lastChannels * Math.max(1, args.width));
    this.blocks.push({ layers: [this.convBn(1, inp, last, 1, false, true)], residual: false });
    this.fcW = this.param('fc/w', this.init.normal([last, args.classes], 0.01));
    this.fcB = this.param('fc/b', this.init.constant([args.classes], 0));
  }

  /** Conv (no bias, kaiming-normal fan-out as torchvision) + BatchNorm, optionally ReLU6. */
  private convBn(k: number, cin: number, cout: number, stride: number, depthwise: boolean, relu: boolean): ConvBn {
    const i = this.n++;
    const shape = depthwise ? [k, k, cin, 1] : [k, k, cin, cout];
    const fanOut = depthwise ? k * k : k * k * cout;
    const w = this.param(`conv${i}/w`, this.init.normal(shape, Math.sqrt(2 / fanOut)));
    return { w, bn: this.batchNormParams(`conv${i}/bn`, cout), stride, depthwise, relu };
  }

  /** Logits [N, classes] of images [N, H, W, 1]. */
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D {
    let h = x;
    for (const block of this.blocks) {
      let y = h;
      for (const l of block.layers) {
        const pad = (l.w.shape[0]! - 1) / 2;
        const w = l.w as tf.Tensor as tf.Tensor4D;
        y = l.depthwise ? depthwiseConv2d(y, w, l.stride, pad) : conv2d(y, w, l.stride, pad);
        y = batchNorm(y, l.bn, ctx);
        if (l.relu) y = tf.relu6(y);
      }
      h = block.residual ? tf.add(h, y) : y;
    }
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return linear(pooled, this.fcW as tf.Tensor as tf.Tensor2D, this.fcB as tf.Tensor as tf.Tensor1D);
  }
}
