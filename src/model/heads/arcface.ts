import type * as tf from '@tensorflow/tfjs';
import type { Head, HeadArgs } from '../types.js';
import { BaseModule } from '../module.js';

/**
 * ArcFace head (§2.3): the class-centre matrix W [classes, D], Xavier-uniform initialised as the
 * references (bound sqrt(6 / (classes + D))). Normalisation, margin and scale are the loss's job
 * (src/losses), so the same head serves ArcFace, Noisy-ArcMix and ArcMix.
 */
export class ArcFaceHead extends BaseModule implements Head {
  readonly weight: tf.Variable;

  constructor(name: string, seed: number, numClasses: number, embeddingDim: number) {
    super(name, seed);
    this.weight = this.param(
      'weight',
      this.init.uniform([numClasses, embeddingDim], Math.sqrt(6 / (numClasses + embeddingDim))),
    );
  }
}

export function createArcFaceHead(args: HeadArgs): Head {
  return new ArcFaceHead(args.name, args.seed, args.numClasses, args.embeddingDim);
}
