import * as tf from '@tensorflow/tfjs';

/**
 * The per-example quantities the baselines' objectives and scorers are made of. Each returns one
 * value per row; the objective is their mean, the clip score their mean over a clip's rows.
 */

/** Mean squared error per row of [N, D]: reconstruction (AE) or interpolation (IDNN) error. */
export function rowMse(pred: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  return tf.squaredDifference(pred, target).mean(1) as tf.Tensor1D;
}

/** -log softmax(logits)[label] per row: softmax cross-entropy, and the ID classifier's anomaly score. */
export function negLogSoftmax(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const logp = tf.logSoftmax(logits);
  const onehot = tf.oneHot(labels, logits.shape[1]);
  return tf.neg(tf.sum(tf.mul(logp, onehot), 1)) as tf.Tensor1D;
}
