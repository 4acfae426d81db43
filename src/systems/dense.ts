import * as tf from '@tensorflow/tfjs';
import { BaseModule } from '../model/module.js';
import type { ForwardContext } from '../model/types.js';
import type { BatchNormParams } from '../model/nn.js';
import { linear, batchNorm } from '../model/nn.js';

/** One dense layer of a stack: units, whether BatchNorm follows, whether ReLU follows. */
export interface DenseLayerSpec {
  units: number;
  batchNorm: boolean;
  relu: boolean;
}

/**
 * A stack of dense layers on [N, D] vectors (the AE and IDNN of Table 2). Weights are
 * Glorot-uniform with zero biases (the Keras defaults of the DCASE 2020 baseline); BatchNorm is
 * PyTorch-style (src/model/nn.ts).
 */
export class DenseStack extends BaseModule {
  private readonly layers: Array<{ w: tf.Variable; b: tf.Variable; bn: BatchNormParams | null; relu: boolean }> = [];

  constructor(name: string, seed: number, inputDim: number, specs: readonly DenseLayerSpec[]) {
    super(name, seed);
    let fanIn = inputDim;
    specs.forEach((s, i) => {
      const w = this.param(`dense${i}/w`, this.init.uniform([fanIn, s.units], Math.sqrt(6 / (fanIn + s.units))));
      const b = this.param(`dense${i}/b`, this.init.constant([s.units], 0));
      const bn = s.batchNorm ? this.batchNormParams(`dense${i}/bn`, s.units) : null;
      this.layers.push({ w, b, bn, relu: s.relu });
      fanIn = s.units;
    });
  }

  apply(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    let h = x;
    for (const l of this.layers) {
      h = linear(h, l.w as tf.Tensor as tf.Tensor2D, l.b as tf.Tensor as tf.Tensor1D);
      if (l.bn) h = batchNorm(h, l.bn, ctx);
      if (l.relu) h = tf.relu(h);
    }
    return h;
  }
}
