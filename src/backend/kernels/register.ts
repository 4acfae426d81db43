import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig } from './conv2d-grads.js';
import { conv2DConfig, fusedConv2DConfig } from './conv2d-fwd.js';
import {
  leakyReluConfig,
  leakyReluGradConfig,
  leakyReluGradKernelConfig,
  tanhConfig,
  tanhGradConfig,
  tanhGradKernelConfig,
} from './activations.js';
import {
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  depthwiseGradient,
  depthwiseGradsConfig,
} from './depthwise-grads.js';
import { batchMatMulConfig } from './matmul.js';
import { meanConfig, sumConfig, tileConfig } from './reduce-tile.js';
import { preluGradConfig, preluGradKernelConfig } from './prelu-grad.js';
import {
  bnPreluInferConfig,
  fusedBatchNormConfig,
  bnPreluTrainConfig,
  bnPreluTrainGradConfig,
  bnPreluTrainGradient,
  bnTrainConfig,
  bnTrainGradConfig,
  bnTrainGradient,
} from './batchnorm.js';
import { saveOriginal } from './wasm-util.js';
import { adamwConfig } from './adamw.js';
import { layerNormConfig, layerNormGradConfig, layerNormGradient } from './layernorm.js';
import { gatedMixConfig, gatedMixGradConfig, gatedMixGradient } from './gated-mix.js';
import {
  dftFoldConfig,
  dftFoldGradConfig,
  dftFoldGradient,
  dftMirrorConfig,
  dftMirrorGradConfig,
  dftMirrorGradient,
} from './dft-glue.js';
import { complexMulConfig, complexMulDwConfig, complexMulDxConfig, complexMulGradient } from './complex-mul.js';
import { matMulBiasActConfig } from './matmul-epilogue.js';
import { spectralActConfig } from './spectral-act.js';
import { conv1dDirectConfig } from './conv1d-direct.js';
import { temporalAttentionConfig } from './temporal-attention.js';
import { col2imConfig, im2colConfig, im2colGradient } from './im2col.js';
import { runningMomentsConfig } from './running-moments.js';
import {
  pointwiseConvConfig,
  pointwiseConvGradConfig,
  pointwiseConvGradsConfig,
  pointwiseConvGradient,
} from './pointwise.js';
import { depthwiseBiasActConfig, depthwiseForwardConfig } from './depthwise-fwd.js';
import {
  identityConfig,
  packConfig,
  padV2Config,
  reverseConfig,
  sliceConfig,
  splitVConfig,
  transposeConfig,
  unpackConfig,
} from './layout.js';

/**
 * Our wasm kernels (docs/backend.md lists each and why). The first group is missing from
 * tfjs-backend-wasm 4.22; the second replaces slow originals, which stay reachable through
 * wasm-util's `run` for the cases we delegate.
 */
export const MISSING_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  preluGradKernelConfig,
  bnTrainConfig,
  bnTrainGradConfig,
  bnPreluTrainConfig,
  bnPreluTrainGradConfig,
  bnPreluInferConfig,
  adamwConfig,
  matMulBiasActConfig,
  depthwiseBiasActConfig,
  tanhGradKernelConfig,
  leakyReluGradKernelConfig,
  layerNormConfig,
  layerNormGradConfig,
  complexMulConfig,
  complexMulDxConfig,
  complexMulDwConfig,
  gatedMixConfig,
  gatedMixGradConfig,
  dftMirrorConfig,
  dftMirrorGradConfig,
  dftFoldConfig,
  dftFoldGradConfig,
  im2colConfig,
  col2imConfig,
  runningMomentsConfig,
  pointwiseConvConfig,
  pointwiseConvGradConfig,
  pointwiseConvGradsConfig,
  depthwiseGradsConfig,
  spectralActConfig,
  conv1dDirectConfig,
  temporalAttentionConfig,
];
export const REPLACED_KERNELS: readonly KernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  tanhConfig,
  leakyReluConfig,
  conv2DBackpropInputConfig,
  batchMatMulConfig,
  sumConfig,
  meanConfig,
  tileConfig,
  identityConfig,
  sliceConfig,
  packConfig,
  unpackConfig,
  splitVConfig,
  padV2Config,
  fusedBatchNormConfig,
  depthwiseForwardConfig,
  reverseConfig,
  transposeConfig,
];

let registered = false;

/** Registers the kernels once per process (before or after the wasm backend is created). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const k of REPLACED_KERNELS) {
    saveOriginal(k.kernelName);
    const original = tf.getKernel(k.kernelName, 'wasm');
    if (original) tf.unregisterKernel(k.kernelName, 'wasm');
    // Keep the original's setup (it binds the C function we still delegate to).
    tf.registerKernel(original?.setupFunc ? { ...k, setupFunc: original.setupFunc } : k);
  }
  for (const k of MISSING_KERNELS) {
    if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
  }
  tf.registerGradient(preluGradConfig);
  tf.registerGradient(tanhGradConfig);
  tf.registerGradient(leakyReluGradConfig);
  tf.registerGradient(bnTrainGradient);
  tf.registerGradient(bnPreluTrainGradient);
  tf.registerGradient(layerNormGradient);
  tf.registerGradient(complexMulGradient);
  tf.registerGradient(gatedMixGradient);
  tf.registerGradient(dftMirrorGradient);
  tf.registerGradient(dftFoldGradient);
  tf.registerGradient(im2colGradient);
  tf.registerGradient(pointwiseConvGradient);
  tf.registerGradient(depthwiseGradient);
  registered = true;
}
