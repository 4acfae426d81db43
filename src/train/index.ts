import * as tf from '@tensorflow/tfjs';
import type { Trainer, TrainOptions } from './events.js';
import { prepareData } from './data.js';
import { runLoop, autoMicroBatch } from './loop.js';
import { loadCheckpoint } from './checkpoint.js';
import { buildContainer } from '../registry/container.js';
import { ModelFactory, LossesFactory } from '../registry/tokens.js';
import { initBackend } from '../backend/select.js';
import { ensureSyntheticDataset } from '../data/synth/generate.js';
import { UserError } from '../util/errors.js';

export type { Trainer, TrainOptions, TrainEvent } from './events.js';
export { DivergedError } from './loop.js';

/**
 * One experiment end to end (§3.1): data -> model + losses from the registry -> AdamW loop ->
 * scores and metrics, reported as TrainEvents. The caller decides where events go.
 */
export const train: Trainer = async (opts: TrainOptions) => {
  const { config } = opts;
  const t0 = performance.now();
  if (!config.loss.classification) {
    throw new UserError('loss.classification is null, but the anomaly score (§3.1) needs the ArcFace head: set a classification loss');
  }
  const backend = await initBackend(opts.backend as 'auto');
  const root = config.data.root ?? ensureSyntheticDataset({ seconds: config.data.seconds, sampleRate: config.data.sampleRate });
  const data = prepareData(root, config);
  // The container is built once per run from the validated config; it supplies model and losses.
  const container = buildContainer(config, { numClasses: data.numClasses, ...(opts.extraModules ? { extraModules: opts.extraModules } : {}) });
  const model = container.get<ModelFactory>(ModelFactory)();
  const { classification: cls, metric } = container.get<LossesFactory>(LossesFactory)();
  if (!cls) throw new UserError('loss.classification: the registry built no classification loss');
  const modules = model.paramsByModule();
  if (metric) {
    modules[metric.name] = [...metric.trainable().values()].reduce((n, v) => n + v.size, 0);
  }
  const batch = Math.min(config.train.batchSize, data.train.count);
  const emit = async (e: Parameters<TrainOptions['onEvent']>[0]) => {
    await opts.onEvent(e);
  };
  try {
    await emit({
      kind: 'start',
      backend: backend.backend,
      threads: backend.threads,
      ...(backend.simdKernels ? { simdKernels: backend.simdKernels } : {}),
      params: { total: Object.values(modules).reduce((a, b) => a + b, 0), modules },
      numClasses: data.numClasses,
      trainClips: data.train.count,
      valClips: data.val?.count ?? 0,
      testClips: data.test.count,
      stepsPerEpoch: Math.floor(data.train.count / batch),
      epochs: config.train.epochs,
      startEpoch: opts.resumeFrom ? loadCheckpoint<{ epoch: number }>(opts.resumeFrom).state.epoch + 1 : 1,
    });
    await runLoop({
      config,
      model,
      losses: { classification: cls, metric },
      train: data.train,
      val: data.val,
      test: data.test,
      runDir: opts.runDir,
      emit,
      signal: opts.signal,
      resumeFrom: opts.resumeFrom,
      defaultMicroBatch: autoMicroBatch(backend.backend, config.data.seconds, batch),
    });
    await emit({ kind: 'done', seconds: (performance.now() - t0) / 1000 });
  } finally {
    model.dispose();
    if (metric) tf.dispose([...metric.trainable().values()]);
  }
};
