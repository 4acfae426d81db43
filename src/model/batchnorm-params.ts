import type * as tf from '@tensorflow/tfjs';

/** PyTorch BatchNorm defaults (tfjs-layers uses eps 1e-3 and momentum 0.99 instead). */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** A BatchNorm's weights [C] and running statistics [C] (channels = last axis). */
export interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}
