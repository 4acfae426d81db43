import * as tf from '@tensorflow/tfjs';
import { checkEmbeddings, checkLabels, cosineMatrix, crossEntropyPerSample, oneHot } from './common.js';

/** ArcFace options (§2.3): additive angular margin m and scale s. */
export interface ArcFaceOptions {
  margin?: number;
  scale?: number;
}

/** Paper defaults (§2.3): m = 0.7, s = 30. */
export const ARCFACE_DEFAULTS = { margin: 0.7, scale: 30 } as const;

/**
 * Floor on sin^2(theta) = 1 - cos^2(theta). At cos = +-1 the derivative of sqrt is infinite; with
 * the floor the clip's gradient is 0 there and the result finite. float32 cannot represent a
 * nonzero 1 - cos^2 below ~6e-8, so the floor only ever replaces an exact 0.
 */
const SIN_SQ_EPS = 1e-12;

/**
 * phi(cos) = cos(theta + m) where cos(theta) > cos(pi - m), else cos(theta) - sin(pi - m) * m:
 * the references' fallback (STgram-MFN / TASTgram ArcMarginProduct with easy_margin off), which
 * keeps the target logit decreasing in theta once theta + m would pass pi (with a jump down at
 * the switch, as in the references).
 */
export function arcMarginTarget(cos: tf.Tensor, margin: number): tf.Tensor {
  return tf.tidy(() => {
    const sin = tf.sqrt(tf.clipByValue(tf.sub(1, tf.square(cos)), SIN_SQ_EPS, 1));
    const phi = tf.sub(tf.mul(cos, Math.cos(margin)), tf.mul(sin, Math.sin(margin)));
    const fallback = tf.sub(cos, Math.sin(Math.PI - margin) * margin);
    // A 0/1 mask from Step (whose gradient is 0) rather than Greater + Where: tfjs has no
    // gradient for Greater, and the mask depends on the weights, so the tape would need one.
    const mask = tf.step(tf.sub(cos, Math.cos(Math.PI - margin)));
    return tf.add(tf.mul(mask, phi), tf.mul(tf.sub(1, mask), fallback));
  });
}

/**
 * ArcFace logits (§2.3, eq. L_AF): s*cos(theta_k) for every class, with the target column replaced
 * by s*phi(cos(theta_y)). `labels` null = no margin anywhere (plain scaled cosine).
 */
export function arcFaceLogits(
  emb: tf.Tensor2D,
  weights: tf.Tensor2D,
  labels: tf.Tensor1D | null,
  opts: ArcFaceOptions = {},
): tf.Tensor2D {
  const { margin, scale } = { ...ARCFACE_DEFAULTS, ...opts };
  checkEmbeddings('arcFaceLogits', emb, weights, 'weights');
  if (labels) checkLabels('arcFaceLogits', labels, emb.shape[0]);
  return tf.tidy(() => {
    const cos = cosineMatrix(emb, weights);
    if (!labels || margin === 0) return tf.mul(cos, scale) as tf.Tensor2D;
    const onehot = oneHot(labels, weights.shape[0]);
    // Only the target column changes: phi is evaluated on cos_y alone ([B, 1]), not on all classes.
    const cosY = tf.sum(tf.mul(cos, onehot), 1, true);
    const delta = tf.sub(arcMarginTarget(cosY, margin), cosY);
    return tf.mul(tf.add(cos, tf.mul(onehot, delta)), scale) as tf.Tensor2D;
  });
}

/** ArcFace loss (§2.3): mean over the batch of CE(arcFaceLogits(emb, W, y), y). */
export function arcFaceLoss(
  emb: tf.Tensor2D,
  weights: tf.Tensor2D,
  labels: tf.Tensor1D,
  opts: ArcFaceOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const logits = arcFaceLogits(emb, weights, labels, opts);
    return tf.mean(crossEntropyPerSample(logits, oneHot(labels, weights.shape[0]))) as tf.Scalar;
  });
}

export interface AnomalyScoreOptions extends ArcFaceOptions {
  /** Apply the margin to the clip's own ID when scoring, as both references do (default true). */
  marginAtTest?: boolean;
}

/**
 * Anomaly score A(x) = -log softmax(z(x))[ID of x] per clip (§3.1); higher = more anomalous.
 * z are the ArcFace logits, with the margin on the clip's own ID unless marginAtTest is false.
 */
export function anomalyScoreTensor(
  emb: tf.Tensor2D,
  weights: tf.Tensor2D,
  labels: tf.Tensor1D,
  opts: AnomalyScoreOptions = {},
): tf.Tensor1D {
  const marginAtTest = opts.marginAtTest ?? true;
  return tf.tidy(() => {
    const logits = arcFaceLogits(emb, weights, marginAtTest ? labels : null, opts);
    return crossEntropyPerSample(logits, oneHot(labels, weights.shape[0])) as tf.Tensor1D;
  });
}

/** The same scores read back (asynchronously: a GPU backend has no synchronous read). */
export async function anomalyScores(
  emb: tf.Tensor2D,
  weights: tf.Tensor2D,
  labels: tf.Tensor1D,
  opts: AnomalyScoreOptions = {},
): Promise<Float32Array> {
  const scores = anomalyScoreTensor(emb, weights, labels, opts);
  const out = Float32Array.from(await scores.data());
  scores.dispose();
  return out;
}
