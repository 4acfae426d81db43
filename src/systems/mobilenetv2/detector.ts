import type * as tf from '@tensorflow/tfjs';
import type { MobileNetV2Config } from './config.js';
import type { ForwardContext } from '../../model/types.js';
import { melWindows, clipMean } from '../frontends.js';
import { negLogSoftmax } from '../objectives.js';
import type { LogMelDetector } from '../logmel-system.js';
import { MobileNetV2 } from './model.js';

/**
 * The MobileNetV2 row of Table 2: self-supervised machine-ID classification (Giri et al.,
 * "Self-supervised classification for detecting anomalous sounds", DCASE 2020 workshop; the
 * comparison in Liu et al.'s STgram-MFN paper): log-Mel windows of one machine type, classified
 * over that type's machine IDs with softmax cross-entropy; the anomaly score of a clip is the mean
 * over its windows of -log p(own ID).
 */
export class MobileNetV2Detector implements LogMelDetector {
  readonly termNames = ['ce'] as const;
  readonly modules: readonly MobileNetV2[];
  private readonly net: MobileNetV2;

  constructor(
    private readonly cfg: MobileNetV2Config,
    classes: number,
    name: string,
    seed: number,
  ) {
    this.net = new MobileNetV2(name, seed, { width: cfg.width, lastChannels: cfg.lastChannels, classes });
    this.modules = [this.net];
  }

  /** -log p(own ID) per window [B * N]. */
  private windowLosses(logmel: tf.Tensor3D, labels: tf.Tensor1D, ctx: ForwardContext): tf.Tensor1D {
    const x = melWindows(logmel, this.cfg.window, this.cfg.hop, 'mobilenetv2.window');
    const perClip = x.shape[0] / logmel.shape[0];
    const windowLabels = labels.reshape([-1, 1]).tile([1, perClip]).reshape([-1]) as tf.Tensor1D;
    return negLogSoftmax(this.net.apply(x, ctx), windowLabels);
  }

  objective(logmel: tf.Tensor3D, labels: tf.Tensor1D, ctx: ForwardContext) {
    const ce = this.windowLosses(logmel, labels, ctx).mean() as tf.Scalar;
    return { total: ce, terms: { ce } };
  }

  clipScores(logmel: tf.Tensor3D, labels: tf.Tensor1D): tf.Tensor1D {
    return clipMean(this.windowLosses(logmel, labels, { training: false, updates: [] }), logmel.shape[0]);
  }
}
