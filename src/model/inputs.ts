import type * as tf from '@tensorflow/tfjs';

/** What every branch can read: the raw (possibly mixed) waveform and its (possibly mixed) log-Mel. */
export interface ModelInputs {
  /** [B, N] samples, N = seconds * sampleRate. */
  wave: tf.Tensor2D;
  /** [B, nMels, T] log-Mel F_LM, computed outside the graph (it has no weights) and cached. */
  logmel: tf.Tensor3D;
}
