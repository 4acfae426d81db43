import type { Trainer, TrainOptions } from './events.js';
import { featureCacheRoot, prepareData } from './data.js';
import { runLoop, autoMicroBatch, autoEvalBatch } from './loop.js';
import { loadCheckpoint } from './checkpoint.js';
import { buildSystem } from '../systems/build.js';
import { partsWith } from '../registry/container.js';
import { catalogFor } from '../parts/files.js';
import { initBackend, shaderCacheFor } from '../backend/select.js';
import { resolveData } from '../data/resolve.js';
import { fitDevice } from './fit.js';

export type { Trainer, TrainOptions, TrainEvent } from './events.js';
export { DivergedError } from './loop.js';

/**
 * One experiment end to end (§3.1): data -> the system (model + objective + scorer) from the
 * registry -> AdamW loop ->
 * scores and metrics, reported as TrainEvents. The caller decides where events go.
 */
export const train: Trainer = async (opts: TrainOptions) => {
  const { config } = opts;
  const t0 = performance.now();
  // On a GPU, compiled shaders are kept beside the run directories for the next process.
  const backend = await initBackend(opts.backend as 'auto', { shaderCache: shaderCacheFor(opts.runDir) });
  // Log-Mels come from the feature cache beside the run directories when an earlier run (or trial
  // of this sweep) computed them for the same clips and front end.
  const data = prepareData(resolveData(config), config, { cacheRoot: featureCacheRoot(opts.runDir) });
  // The registry builds the run's system once from the validated config (one model, or one per type).
  const classes = data.index.classes.map((c) => ({ type: c.type, machineId: c.machineId }));
  // Its parts: the built-ins, the plug-in files the config records (hash-checked), any script modules.
  const parts = partsWith(await catalogFor(config), opts.extraModules ?? []);
  const system = buildSystem(config, classes, parts);
  const modules = { ...system.paramsByModule(), ...system.objectiveParams() };
  const batch = Math.min(config.train.batchSize, data.train.count);
  const wantedMicro = config.train.microBatch ?? autoMicroBatch(backend.backend, config.data.seconds, batch);
  const emit = async (e: Parameters<TrainOptions['onEvent']>[0]) => {
    await opts.onEvent(e);
  };
  try {
    // On a GPU: the (micro-)batch checked against the device's limits before any training.
    const fit = await fitDevice(system, data.train, Math.min(wantedMicro, batch), config.train.microBatch !== null);
    await emit({
      kind: 'start',
      backend: backend.backend,
      threads: backend.threads,
      ...(backend.simdKernels ? { simdKernels: backend.simdKernels } : {}),
      ...(backend.nativeKernels ? { nativeKernels: backend.nativeKernels } : {}),
      ...(backend.gpu ? { gpu: backend.gpu } : {}),
      ...(fit
        ? {
            deviceFit: {
              probeBytes: fit.probeBytes,
              limit: fit.limit,
              microBatch: fit.micro,
              evalBatch: fit.evalBatch,
              note: fit.note,
            },
          }
        : {}),
      microBatch: fit?.micro ?? wantedMicro,
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
      system,
      train: data.train,
      val: data.val,
      test: data.test,
      runDir: opts.runDir,
      emit,
      signal: opts.signal,
      resumeFrom: opts.resumeFrom,
      defaultMicroBatch: fit?.micro ?? autoMicroBatch(backend.backend, config.data.seconds, batch),
      evalBatch: fit?.evalBatch ?? autoEvalBatch(backend.backend, config.data.seconds),
    });
    await emit({ kind: 'done', seconds: (performance.now() - t0) / 1000 });
  } finally {
    system.dispose();
  }
};
