import * as tf from '@tensorflow/tfjs';
import type { BatchNormParams } from '../nn.js';
import type { FoldedBackbone } from './types.js';
import { disposeFolded, foldBatchNorm, type FoldedConv } from './fold.js';
import { runFoldedConv } from './conv-block.js';

/** A MobileFaceNet conv block as the backbone holds it (conv weight, BatchNorm, PReLU slopes). */
export interface ConvBlockWeights {
  w: tf.Variable;
  bn: BatchNormParams;
  alpha?: tf.Variable;
  depthwise: boolean;
  stride: number;
  pad: number;
}

export interface BottleneckWeights {
  expand: ConvBlockWeights;
  dw: ConvBlockWeights;
  project: ConvBlockWeights;
  residual: boolean;
}

function fold(b: ConvBlockWeights): FoldedConv {
  // Kept: a fold may be made inside a caller's tidy (scoring folds on its first batch) and must outlive it.
  const { w, bias } = foldBatchNorm(b.w as tf.Tensor as tf.Tensor4D, b.bn, b.depthwise);
  tf.keep(w);
  tf.keep(bias);
  // The slopes are shared with the trained model (not copied): dispose() must not free them.
  return {
    w,
    bias,
    depthwise: b.depthwise,
    stride: b.stride,
    pad: b.pad,
    ...(b.alpha ? { alpha: b.alpha as tf.Tensor as tf.Tensor1D } : {}),
  };
}

/**
 * MobileFaceNet (src/model/backbones/mobilefacenet.ts) in evaluation mode with every BatchNorm
 * folded into its conv, every PReLU and residual fused into the block before it: each block is
 * one kernel. Same input and output as the backbone's apply() with training false.
 */
export class FoldedMobileFaceNet implements FoldedBackbone {
  private readonly stem: FoldedConv[];
  private readonly blocks: Array<{ expand: FoldedConv; dw: FoldedConv; project: FoldedConv; residual: boolean }>;
  private readonly head: FoldedConv[];

  constructor(
    stem: readonly ConvBlockWeights[],
    blocks: readonly BottleneckWeights[],
    head: readonly ConvBlockWeights[],
  ) {
    this.stem = stem.map(fold);
    this.blocks = blocks.map((b) => ({
      expand: fold(b.expand),
      dw: fold(b.dw),
      project: fold(b.project),
      residual: b.residual,
    }));
    this.head = head.map(fold);
  }

  apply(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let y = x;
      for (const b of this.stem) y = runFoldedConv(y, b);
      for (const blk of this.blocks) {
        const z = runFoldedConv(runFoldedConv(y, blk.expand), blk.dw);
        y = runFoldedConv(z, blk.project, blk.residual ? y : undefined);
      }
      for (const b of this.head) y = runFoldedConv(y, b);
      return y.reshape([y.shape[0], -1]) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const b of [...this.stem, ...this.blocks.flatMap((k) => [k.expand, k.dw, k.project]), ...this.head])
      disposeFolded(b);
  }
}
