import * as tf from '@tensorflow/tfjs';
import type { BranchArgs, ClipGeometry, FeatureBranch, ForwardContext, ModelInputs } from '../types.js';
import { BaseModule } from '../module.js';
import { conv1d, conv1dEval, layerNormLeakyRelu } from '../nn.js';

/** Tgram front conv as STgram-MFN's TgramNet: window 1024, stride = the STFT hop, padding 512. */
export const TGRAM_KERNEL = 1024;
const LAYERS = 3;
const SLOPE = 0.2;

/**
 * F_T (§2.1.1, from STgram-MFN): Conv1D(1 -> M, k 1024, s hop, p 512, no bias) on the waveform,
 * then 3 x [LayerNorm over the T frames, LeakyReLU 0.2, Conv1D(M -> M, k 3, s 1, p 1, no bias)].
 * As the reference, the LayerNorm normalises each channel over time (normalised shape [T], its
 * affine weights sized T), so its weights follow the clip length. Convs get PyTorch's default
 * init U(+-1/sqrt(fan_in)) (the reference's init loop covers MobileFaceNet only).
 * wave [B, N] -> [B, M, T] with T = 1 + floor(N / hop).
 */
export class TgramBranch extends BaseModule implements FeatureBranch {
  private readonly front: tf.Variable;
  private readonly blocks: Array<{ gamma: tf.Variable; beta: tf.Variable; conv: tf.Variable }> = [];

  constructor(
    name: string,
    seed: number,
    readonly clip: ClipGeometry,
  ) {
    super(name, seed);
    const m = clip.nMels;
    this.front = this.param('conv0/w', this.init.uniform([TGRAM_KERNEL, 1, m], 1 / Math.sqrt(TGRAM_KERNEL)));
    for (let i = 1; i <= LAYERS; i++) {
      this.blocks.push({
        gamma: this.param(`ln${i}/gamma`, this.init.constant([clip.frames], 1)),
        beta: this.param(`ln${i}/beta`, this.init.constant([clip.frames], 0)),
        conv: this.param(`conv${i}/w`, this.init.uniform([3, m, m], 1 / Math.sqrt(3 * m))),
      });
    }
  }

  apply(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor3D {
    // Scoring reads the convs' inputs in place on wasm (the same bits as the columns training uses).
    const conv = ctx.training ? conv1d : conv1dEval;
    return tf.tidy(() => {
      const [b, n] = inputs.wave.shape;
      // [B, T, M] (time-major, channels last) throughout; LayerNorm over axis 1 = time.
      let x = conv(
        inputs.wave.reshape([b, n, 1]),
        this.front as tf.Tensor as tf.Tensor3D,
        this.clip.hop,
        TGRAM_KERNEL / 2,
      );
      for (const blk of this.blocks) {
        x = layerNormLeakyRelu(x, blk.gamma.reshape([-1, 1]), blk.beta.reshape([-1, 1]), 1, SLOPE);
        x = conv(x, blk.conv as tf.Tensor as tf.Tensor3D, 1, 1);
      }
      return tf.transpose(x, [0, 2, 1]);
    });
  }
}

export function createTgramBranch(args: BranchArgs): FeatureBranch {
  return new TgramBranch(args.name, args.seed, args.clip);
}
