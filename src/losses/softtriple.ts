import * as tf from '@tensorflow/tfjs';
import { checkEmbeddings, checkLabels, crossEntropyPerSample, l2NormalizeRows, oneHot } from './common.js';

/** SoftTriple options (§2.3; Qian et al., ICCV 2019). */
export interface SoftTripleOptions {
  /** Temperature of the softmax over a class's K centres. */
  gamma?: number;
  /** Scale of the class similarities in the cross-entropy. */
  lambda?: number;
  /** Margin subtracted from the target class similarity. */
  delta?: number;
  /** Centres per class. */
  K?: number;
  /** Weight of the centre-merging regulariser. */
  tau?: number;
}

/** Paper defaults (§2.3, Table 4 last row). */
export const SOFTTRIPLE_DEFAULTS = { gamma: 0.1, lambda: 20, delta: 0.02, K: 3, tau: 0 } as const;

type Resolved = { gamma: number; lambda: number; delta: number; K: number; tau: number };

function resolve(fn: string, centers: tf.Tensor2D, opts: SoftTripleOptions): Resolved & { C: number } {
  const o = { ...SOFTTRIPLE_DEFAULTS, ...opts };
  if (!Number.isInteger(o.K) || o.K < 1) throw new RangeError(`${fn}: K must be a positive whole number, got ${o.K}`);
  if (!(o.gamma > 0)) throw new RangeError(`${fn}: gamma must be > 0, got ${o.gamma}`);
  if (centers.shape[0] % o.K !== 0) {
    throw new RangeError(`${fn}: centers has ${centers.shape[0]} rows, not a multiple of K = ${o.K}`);
  }
  return { ...o, C: centers.shape[0] / o.K };
}

/**
 * Relaxed class similarities S_ic = sum_k q_k x_i^T w_ck with q = softmax_k(x_i^T w_ck / gamma),
 * embeddings and centres L2-normalised: [B, C]. As gamma -> 0, S_ic -> max_k x_i^T w_ck.
 */
export function softTripleSimilarities(
  emb: tf.Tensor2D,
  centers: tf.Tensor2D,
  opts: SoftTripleOptions = {},
): tf.Tensor2D {
  checkEmbeddings('softTripleSimilarities', emb, centers, 'centers');
  const { gamma, K, C } = resolve('softTripleSimilarities', centers, opts);
  return tf.tidy(() => {
    const b = emb.shape[0];
    const sim = tf.reshape(tf.matMul(l2NormalizeRows(emb), tf.transpose(l2NormalizeRows(centers))), [b, C, K]);
    if (K === 1) return tf.reshape(sim, [b, C]) as tf.Tensor2D;
    // Softmax over the last axis (the only axis wasm's Softmax kernel supports).
    const q = tf.softmax(tf.div(sim, gamma));
    return tf.sum(tf.mul(q, sim), 2) as tf.Tensor2D;
  });
}

/**
 * The reference's centre regulariser: over pairs of distinct centres of the same class (upper
 * triangle), sum sqrt(2 + 1e-5 - 2 <w_ck, w_ck'>) / (C * K * (K - 1)). 0 when K = 1.
 */
export function softTripleRegularizer(centers: tf.Tensor2D, K: number): tf.Scalar {
  const C = centers.shape[0] / K;
  if (K <= 1) return tf.scalar(0);
  return tf.tidy(() => {
    const n = centers.shape[0];
    const mask = new Float32Array(n * n);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) mask[(c * K + i) * n + c * K + j] = 1;
    }
    const w = l2NormalizeRows(centers);
    const simC = tf.matMul(w, tf.transpose(w));
    // sim <= 1 up to rounding, so the argument stays >= ~1e-5 and sqrt's gradient finite.
    const dist = tf.sqrt(tf.maximum(tf.sub(2 + 1e-5, tf.mul(simC, 2)), 1e-12));
    return tf.div(tf.sum(tf.mul(dist, tf.tensor2d(mask, [n, n]))), C * K * (K - 1)) as tf.Scalar;
  });
}

/** Per-sample SoftTriple cross-entropy CE(lambda * (S - delta * onehot(y)), y) from S [B, C]: [B]. */
function softTripleCE(S: tf.Tensor2D, labels: tf.Tensor1D, lambda: number, delta: number): tf.Tensor1D {
  return tf.tidy(() => {
    const onehot = oneHot(labels, S.shape[1]);
    return crossEntropyPerSample(tf.mul(tf.sub(S, tf.mul(onehot, delta)), lambda) as tf.Tensor2D, onehot);
  });
}

/**
 * SoftTriple loss (§2.3 eq. L_ST; Qian et al. reference code): rows c*K .. c*K+K-1 of `centers`
 * belong to class c. Returns the batch mean plus tau * regulariser (only when tau > 0 and K > 1).
 */
export function softTripleLoss(
  emb: tf.Tensor2D,
  centers: tf.Tensor2D,
  labels: tf.Tensor1D,
  opts: SoftTripleOptions = {},
): tf.Scalar {
  return softTripleMixedLoss(emb, centers, labels, labels, 1, opts);
}

/**
 * SoftTriple on a mixed batch: lam * L_ST(x, A) + (1 - lam) * L_ST(x, B). The paper is silent on
 * how SoftTriple treats Noisy-ArcMix batches; we mirror the mixup cross-entropy (the regulariser,
 * independent of the labels, is added once).
 */
export function softTripleMixedLoss(
  emb: tf.Tensor2D,
  centers: tf.Tensor2D,
  labelsA: tf.Tensor1D,
  labelsB: tf.Tensor1D,
  lam: number,
  opts: SoftTripleOptions = {},
): tf.Scalar {
  const { lambda, delta, K, tau } = resolve('softTripleLoss', centers, opts);
  checkLabels('softTripleLoss', labelsA, emb.shape[0]);
  if (!Number.isFinite(lam) || lam < 0 || lam > 1)
    throw new RangeError(`softTripleLoss: lam must be in [0, 1], got ${lam}`);
  return tf.tidy(() => {
    const S = softTripleSimilarities(emb, centers, opts);
    let ce = softTripleCE(S, labelsA, lambda, delta);
    if (lam !== 1) {
      checkLabels('softTripleLoss', labelsB, emb.shape[0], 'labelsB');
      ce = tf.add(tf.mul(ce, lam), tf.mul(softTripleCE(S, labelsB, lambda, delta), 1 - lam));
    }
    const loss = tf.mean(ce) as tf.Scalar;
    if (tau > 0 && K > 1) return tf.add(loss, tf.mul(softTripleRegularizer(centers, K), tau)) as tf.Scalar;
    return loss;
  });
}
