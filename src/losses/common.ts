import * as tf from '@tensorflow/tfjs';

/**
 * Shared numerics of the losses. Every function here is built from differentiable tfjs ops with
 * kernels on the cpu, wasm and tensorflow backends, so it works under tf.variableGrads anywhere.
 */

/**
 * Floor on the squared row norm (a norm floor of 1e-6). PyTorch's F.normalize clamps the norm at
 * 1e-12; we clamp the squared norm instead, because the gradient of sqrt at 0 is infinite and
 * 0 * inf is NaN even on the branch tf.maximum does not select. A zero row maps to a zero vector
 * with a finite gradient (at most 1e6 times the upstream one; a 1e-12 floor would allow 1e12).
 * Real embeddings and weight rows have norms around 0.1-10, far above the floor, so values equal
 * the references'.
 */
const NORM_EPS_SQ = 1e-12;

/** Rows of x divided by their L2 norm: [N, D] -> [N, D]. */
export function l2NormalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true);
    return tf.mul(x, tf.rsqrt(tf.maximum(sq, NORM_EPS_SQ))) as tf.Tensor2D;
  });
}

/** Cosine similarity of every embedding with every row of w: [B, D] x [N, D] -> [B, N], in [-1, 1]. */
export function cosineMatrix(emb: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    // An explicit transpose and a plain matmul: the transposed-flag BatchMatMul is slow on wasm.
    const c = tf.matMul(l2NormalizeRows(emb), tf.transpose(l2NormalizeRows(w)));
    return tf.clipByValue(c, -1, 1) as tf.Tensor2D;
  });
}

/** One-hot float32 rows of the int32 labels: [B] -> [B, C]. */
export function oneHot(labels: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(labels, 'int32'), numClasses), 'float32') as tf.Tensor2D);
}

/** Per-sample softmax cross-entropy -log softmax(logits)[y] via log-sum-exp (tf.logSoftmax): [B]. */
export function crossEntropyPerSample(logits: tf.Tensor2D, onehot: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1)) as tf.Tensor1D);
}

/** Checks shapes up front so a mistake reads as a message, not as a kernel error deep in tfjs. */
export function checkEmbeddings(fn: string, emb: tf.Tensor, weights: tf.Tensor, weightName: string): void {
  if (emb.rank !== 2) throw new RangeError(`${fn}: embeddings must be [B, D], got shape [${emb.shape.join(', ')}]`);
  if (weights.rank !== 2 || weights.shape[1] !== emb.shape[1]) {
    throw new RangeError(`${fn}: ${weightName} must be [N, ${emb.shape[1]}], got shape [${weights.shape.join(', ')}]`);
  }
}

export function checkLabels(fn: string, labels: tf.Tensor, batch: number, name = 'labels'): void {
  if (labels.rank !== 1 || labels.shape[0] !== batch) {
    throw new RangeError(`${fn}: ${name} must be [${batch}] class indices, got shape [${labels.shape.join(', ')}]`);
  }
}
