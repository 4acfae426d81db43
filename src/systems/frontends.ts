import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors.js';

/**
 * Front ends of the Table 2 baselines, computed in the graph from the cached log-Mel map
 * [B, nMels, T] (no weights, so nothing is learned here).
 */

/**
 * Frame vectors (DCASE 2020 Task 2 baseline, IDNN): for every t, the frames t .. t+context-1
 * concatenated frame by frame (frame-major, mel bins within a frame, as the baseline's
 * vector_array), giving [B, T - context + 1, context * nMels].
 */
export function frameVectors(logmel: tf.Tensor3D, context: number, where = 'context'): tf.Tensor3D {
  const [b, m, t] = logmel.shape;
  const n = t - context + 1;
  if (n < 1)
    throw new UserError(
      `${where}: ${context} frames per vector, but a clip has only ${t} frames (lower it or raise data.seconds)`,
    );
  const frames = tf.transpose(logmel, [0, 2, 1]); // [B, T, M]
  const parts = Array.from({ length: context }, (_, j) => tf.slice(frames, [0, j, 0], [b, n, m]));
  return tf.concat(parts, 2) as tf.Tensor3D;
}

/** Number of windows of `size` frames at `hop` that fit in `frames` (at least one required). */
export function windowCount(frames: number, size: number, hop: number): number {
  return size > frames ? 0 : Math.floor((frames - size) / hop) + 1;
}

/**
 * Log-Mel windows as 1-channel images (MobileNetV2, Glow-Aff): windows of `size` frames every
 * `hop` frames, [B * N, nMels, size, 1], clip-major (the N windows of clip 0 first).
 */
export function melWindows(logmel: tf.Tensor3D, size: number, hop: number, where = 'window'): tf.Tensor4D {
  const [b, m, t] = logmel.shape;
  const n = windowCount(t, size, hop);
  if (n < 1)
    throw new UserError(
      `${where}: windows of ${size} frames, but a clip has only ${t} frames (lower it or raise data.seconds)`,
    );
  const wins = Array.from({ length: n }, (_, k) => tf.slice(logmel, [0, 0, k * hop], [b, m, size]));
  return tf.stack(wins, 1).reshape([b * n, m, size, 1]);
}

/** Mean of per-window values [B * N] over each clip's N windows -> [B]. */
export function clipMean(values: tf.Tensor1D, clips: number): tf.Tensor1D {
  return values.reshape([clips, values.shape[0] / clips]).mean(1) as tf.Tensor1D;
}
