import * as tf from '@tensorflow/tfjs';
import type { FusionArgs, Fusion } from '../types.js';
import { BaseModule } from '../module.js';
import { UserError } from '../../util/errors.js';

/** §2.2 fusion: Concat[F_LM, F_T, F_TA, F_S_enh] along channels, in the configured branch order. */
export class ConcatFusion extends BaseModule implements Fusion {
  constructor(
    name: string,
    seed: number,
    private readonly branches: readonly string[],
  ) {
    super(name, seed);
  }

  combine(maps: tf.Tensor3D[]): tf.Tensor4D {
    if (maps.length !== this.branches.length) {
      throw new UserError(
        `fusion "${this.name}": expected ${this.branches.length} branch maps (${this.branches.join(', ')}), got ${maps.length}`,
      );
    }
    return tf.stack(maps, 3) as tf.Tensor4D; // [B, M, T, C]
  }
}

export function createConcatFusion(args: FusionArgs): Fusion {
  return new ConcatFusion(args.name, args.seed, args.branches);
}
