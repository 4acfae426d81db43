import * as tf from '@tensorflow/tfjs';
import type { Backbone, BackboneArgs, ForwardContext } from '../types.js';
import { BaseModule } from '../module.js';
import { batchNorm, batchNormPrelu, conv2d, depthwiseConv2d } from '../nn.js';
import { UserError } from '../../util/errors.js';
import { FoldedMobileFaceNet, type BottleneckWeights, type ConvBlockWeights } from '../inference/mobilefacenet.js';
import type { FoldedBackbone } from '../inference/types.js';

/** A bottleneck table row: expansion t, output channels c, repeats n, stride s of the first. */
export type BottleneckRow = readonly [t: number, c: number, n: number, s: number];

/** MobileFaceNet bottleneck tables of STgram-MFN's net.py (STgram-MFN and TASTgram repositories). */
export const BOTTLENECK_TABLES: Record<'current' | 'legacy', readonly BottleneckRow[]> = {
  current: [
    [2, 128, 2, 2],
    [4, 128, 2, 2],
    [4, 128, 2, 2],
  ],
  legacy: [
    [2, 64, 5, 2],
    [4, 128, 1, 2],
    [2, 128, 6, 1],
    [4, 128, 1, 2],
    [2, 128, 2, 1],
  ],
};

const STEM_CHANNELS = 64;
const HEAD_CHANNELS = 512;

/** PyTorch's conv output size: floor((in + 2 pad - k) / stride) + 1. */
export function convOut(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/**
 * The map size [H, W] after the stem and after each bottleneck row, without running anything:
 * the last entry is the global depthwise conv's kernel (8 x 20 for a 128 x 313 input).
 */
export function mobileFaceNetShapes(
  height: number,
  width: number,
  table: readonly BottleneckRow[],
): Array<[number, number]> {
  let h = convOut(height, 3, 2, 1);
  let w = convOut(width, 3, 2, 1);
  const sizes: Array<[number, number]> = [[h, w]];
  for (const [, , , s] of table) {
    h = convOut(h, 3, s, 1);
    w = convOut(w, 3, s, 1);
    sizes.push([h, w]);
  }
  return sizes;
}

type ConvBlock = ConvBlockWeights;
type Bottleneck = BottleneckWeights;

/**
 * MobileFaceNet as STgram-MFN / TASTgram use it (STgram-MFN's net.py, which TASTgram reuses):
 * stem ConvBlock(C_in -> 64, 3x3, s2, p1) + depthwise ConvBlock(64, 3x3, s1, p1); the bottlenecks
 * (1x1 expand -> BN -> PReLU -> 3x3 depthwise stride s -> BN -> PReLU -> 1x1 -> BN, residual when
 * stride 1 and in == out); head 1x1 conv -> 512 (BN, PReLU), global depthwise conv with the kernel
 * equal to the remaining map (linear, BN), 1x1 conv 512 -> D (linear, BN) = the embedding.
 * ConvBlock = conv (no bias) -> BN -> PReLU per channel; "linear" blocks omit the PReLU.
 * Init as the reference: conv weights ~ N(0, sqrt(2 / (kh kw out))), BN gamma 1 beta 0.
 * Input [B, H, W, C_in] -> [B, D].
 */
export class MobileFaceNet extends BaseModule implements Backbone {
  private readonly stem: ConvBlock[];
  private readonly blocks: Bottleneck[] = [];
  private readonly head: ConvBlock[];
  /** Remaining map size = the global depthwise kernel. */
  readonly finalMap: [number, number];

  constructor(
    name: string,
    seed: number,
    readonly args: Pick<BackboneArgs, 'inChannels' | 'height' | 'width' | 'embeddingDim' | 'bottlenecks'>,
  ) {
    super(name, seed);
    const table = BOTTLENECK_TABLES[args.bottlenecks];
    const sizes = mobileFaceNetShapes(args.height, args.width, table);
    const last = sizes[sizes.length - 1]!;
    if (last[0] < 1 || last[1] < 1) {
      throw new UserError(
        `model.backbone ${name}: a ${args.height} x ${args.width} input shrinks to nothing (${last.join(' x ')}) through the ${args.bottlenecks} bottleneck table; use longer clips (data.seconds)`,
      );
    }
    this.finalMap = last;
    this.stem = [
      this.convBlock('stem/conv', args.inChannels, STEM_CHANNELS, 3, 2, 1, false, true),
      this.convBlock('stem/dw', STEM_CHANNELS, STEM_CHANNELS, 3, 1, 1, true, true),
    ];
    let inp = STEM_CHANNELS;
    let index = 0;
    for (const [t, c, n, s] of table) {
      for (let i = 0; i < n; i++, index++) {
        const stride = i === 0 ? s : 1;
        const hidden = inp * t;
        const p = `block${index}`;
        this.blocks.push({
          expand: this.convBlock(`${p}/expand`, inp, hidden, 1, 1, 0, false, true),
          dw: this.convBlock(`${p}/dw`, hidden, hidden, 3, stride, 1, true, true),
          project: this.convBlock(`${p}/project`, hidden, c, 1, 1, 0, false, false),
          residual: stride === 1 && inp === c,
        });
        inp = c;
      }
    }
    this.head = [
      this.convBlock('head/conv', inp, HEAD_CHANNELS, 1, 1, 0, false, true),
      this.convBlock('head/gdc', HEAD_CHANNELS, HEAD_CHANNELS, last, 1, 0, true, false),
      this.convBlock('head/embed', HEAD_CHANNELS, args.embeddingDim, 1, 1, 0, false, false),
    ];
  }

  private convBlock(
    path: string,
    cin: number,
    cout: number,
    kernel: number | [number, number],
    stride: number,
    pad: number,
    depthwise: boolean,
    activation: boolean,
  ): ConvBlock {
    const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    const std = Math.sqrt(2 / (kh * kw * cout));
    const w = this.param(`${path}/w`, this.init.normal(depthwise ? [kh, kw, cin, 1] : [kh, kw, cin, cout], std));
    const bn = this.batchNormParams(`${path}/bn`, cout);
    const alpha = activation ? this.preluParams(`${path}/prelu`, cout) : undefined;
    return { w, bn, alpha, depthwise, stride, pad };
  }

  private runBlock(x: tf.Tensor4D, b: ConvBlock, ctx: ForwardContext): tf.Tensor4D {
    const w = b.w as tf.Tensor as tf.Tensor4D;
    let y = b.depthwise ? depthwiseConv2d(x, w, b.stride, b.pad) : conv2d(x, w, b.stride, b.pad);
    return b.alpha ? batchNormPrelu(y, b.bn, b.alpha as tf.Tensor as tf.Tensor1D, ctx) : batchNorm(y, b.bn, ctx);
  }

  private checkShape(x: tf.Tensor4D): void {
    const [, h, w, c] = x.shape;
    if (h !== this.args.height || w !== this.args.width || c !== this.args.inChannels) {
      throw new UserError(
        `model.backbone ${this.name}: built for [B, ${this.args.height}, ${this.args.width}, ${this.args.inChannels}] inputs, got [${x.shape.join(', ')}]`,
      );
    }
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D {
    this.checkShape(x);
    return tf.tidy(() => {
      let y = x;
      for (const b of this.stem) y = this.runBlock(y, b, ctx);
      for (const blk of this.blocks) {
        let z = this.runBlock(y, blk.expand, ctx);
        z = this.runBlock(z, blk.dw, ctx);
        z = this.runBlock(z, blk.project, ctx);
        y = blk.residual ? tf.add(y, z) : z;
      }
      for (const b of this.head) y = this.runBlock(y, b, ctx);
      return y.reshape([y.shape[0], -1]) as tf.Tensor2D;
    });
  }

  /** Evaluation mode with BatchNorm folded into every conv and PReLU / residual fused (src/model/inference). */
  fold(): FoldedBackbone {
    const folded = new FoldedMobileFaceNet(this.stem, this.blocks, this.head);
    return {
      apply: (x) => {
        this.checkShape(x);
        return folded.apply(x);
      },
      dispose: () => folded.dispose(),
    };
  }
}

export function createMobileFaceNet(args: BackboneArgs): Backbone {
  return new MobileFaceNet(args.name, args.seed, args);
}
