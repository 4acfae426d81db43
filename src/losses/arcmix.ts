import * as tf from '@tensorflow/tfjs';
import { arcFaceLogits, arcFaceLoss, type ArcFaceOptions } from './arcface.js';
import { checkLabels, crossEntropyPerSample, oneHot } from './common.js';

function checkLam(fn: string, lam: number): void {
  if (!Number.isFinite(lam) || lam < 0 || lam > 1) throw new RangeError(`${fn}: lam must be in [0, 1], got ${lam}`);
}

/**
 * Noisy-ArcMix as the TASTgram code computes it (the Noisy-ArcMix repository's training loss): one set of ArcFace logits with the
 * margin on label A only (label B, the "noise" partner, gets none), then
 * lam * CE(logits, A) + (1 - lam) * CE(logits, B), averaged over the batch.
 */
export function noisyArcMixLoss(
  embMixed: tf.Tensor2D,
  weights: tf.Tensor2D,
  labelsA: tf.Tensor1D,
  labelsB: tf.Tensor1D,
  lam: number,
  opts: ArcFaceOptions = {},
): tf.Scalar {
  checkLam('noisyArcMixLoss', lam);
  checkLabels('noisyArcMixLoss', labelsB, embMixed.shape[0], 'labelsB');
  return tf.tidy(() => {
    const logits = arcFaceLogits(embMixed, weights, labelsA, opts);
    const c = weights.shape[0];
    const ceA = crossEntropyPerSample(logits, oneHot(labelsA, c));
    if (lam === 1) return tf.mean(ceA) as tf.Scalar;
    const ceB = crossEntropyPerSample(logits, oneHot(labelsB, c));
    return tf.mean(tf.add(tf.mul(ceA, lam), tf.mul(ceB, 1 - lam))) as tf.Scalar;
  });
}

/**
 * ArcMix, the formula as the FGASpecNet paper writes it (§2.3):
 * lam * L_AF(x_mixed, A) + (1 - lam) * L_AF(x_mixed, B), each term with its own margin.
 */
export function arcMixLoss(
  embMixed: tf.Tensor2D,
  weights: tf.Tensor2D,
  labelsA: tf.Tensor1D,
  labelsB: tf.Tensor1D,
  lam: number,
  opts: ArcFaceOptions = {},
): tf.Scalar {
  checkLam('arcMixLoss', lam);
  return tf.tidy(() => {
    // A term with weight 0 is skipped (its value times 0 is 0; this saves a pass).
    if (lam === 1) return arcFaceLoss(embMixed, weights, labelsA, opts);
    if (lam === 0) return arcFaceLoss(embMixed, weights, labelsB, opts);
    const a = arcFaceLoss(embMixed, weights, labelsA, opts);
    const b = arcFaceLoss(embMixed, weights, labelsB, opts);
    return tf.add(tf.mul(a, lam), tf.mul(b, 1 - lam)) as tf.Scalar;
  });
}
