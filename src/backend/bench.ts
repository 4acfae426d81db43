import type { Parts } from '../registry/catalog.js';
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import type { ExperimentConfig } from '../config/schema.js';
import { trainedParams } from '../train/step.js';
import { AdamW } from '../train/adamw.js';
import { trainStep, type StepRig } from '../train/train-step.js';
import { autoMicroBatch } from '../train/loop.js';
import { makeInputs, type ClipArrays } from '../train/batch.js';
import { buildSystem } from '../systems/build.js';
import type { SystemClass } from '../systems/types.js';
import { initBackend, type BackendName } from './select.js';
import { memoryOf, type WasmBackend } from './kernels/wasm-util.js';
import { guarded } from './gpu-guard.js';
import { UserError } from '../util/errors.js';
import { lcg32 } from '../random/index.js';
import type { GpuAdapter } from './webgpu.js';
import { fitDevice } from '../train/fit.js';

/** What `exp bench --json` prints (docs/cli.md; more fields than the fixed ones). */
export interface BenchResult {
  backend: string;
  threads: number;
  batch: number;
  /** Clips per micro-batch of a training step (train.microBatch, else what `exp run` picks). */
  microBatch: number;
  steps: number;
  warmup: number;
  experiment: string;
  params: number;
  train: { clipsPerSec: number; msPerStep: number };
  /** firstBatchMs: the first scoring batch after training, which folds the new weights (once per test set; not in msPerBatch). */
  infer: { clipsPerSec: number; msPerBatch: number; firstBatchMs: number };
  /**
   * 1-minute load average before the benchmark started (other processes skew the numbers; read at
   * the end it would mostly show the benchmark's own threads).
   */
  loadAverage: number;
  cpus: number;
  /** Live tensors before the timed steps and after them (equal unless something leaks). */
  tensors: { before: number; after: number };
  /** wasm only: size the heap grew to (it never shrinks; the cap is 4 GB). */
  wasmHeapBytes?: number;
  /** wasm only: which build of our SIMD kernels ran ('relaxed': fused multiply-add). */
  simdKernels?: 'relaxed' | 'baseline';
  /** wasm only: 'avx2' or 'avx512' when the products ran in that native x86-64 build (same bits, faster). */
  nativeKernels?: 'avx2' | 'avx512';
  /** webgpu only: the adapter, and the most GPU memory tfjs held after a timed step or batch (bytes). */
  gpu?: GpuAdapter;
  gpuPeakBytes?: number;
}

export interface BenchOptions {
  backend: BackendName;
  threads?: number;
  batch: number;
  steps: number;
  warmup?: number;
  /** Classes of the head: the 41 machine IDs of DCASE 2020 Task 2. */
  classes?: number;
  /** The registries the model is assembled from (the built-ins, plus any plug-ins). */
  parts: Parts;
  /** Called before each warm-up / timed step, for progress output. */
  onStep?: (phase: 'warmup' | 'train' | 'fold' | 'infer', i: number) => void;
}

function heapBytes(): { wasmHeapBytes?: number } {
  if (tf.getBackend() !== 'wasm') return {};
  // Shared memory under threads, the module's exported memory on one thread.
  return { wasmHeapBytes: memoryOf(tf.backend() as unknown as WasmBackend).buffer.byteLength };
}

/** Seeded uniform noise in [-scale, scale): benchmark inputs need no realism, only the shapes. */
function noise(n: number, seed: number, scale: number): Float32Array {
  const next = lcg32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() / 2 ** 31 - 1) * scale;
  return out;
}

/** DCASE 2020 Task 2's machine types, for the bench's stand-in classes. */
const BENCH_TYPES = ['fan', 'pump', 'slider', 'valve', 'ToyCar', 'ToyConveyor'] as const;

/** `count` classes spread over the six machine types (per-type systems build one model per type). */
function benchClasses(count: number): SystemClass[] {
  return Array.from({ length: count }, (_, i) => ({
    type: BENCH_TYPES[i % BENCH_TYPES.length]!,
    machineId: `id_${String(Math.floor(i / BENCH_TYPES.length)).padStart(2, '0')}`,
  }));
}

/** `n` clips of seeded noise with the experiment's geometry (no realism needed, only the shapes). */
function noiseClips(n: number, samples: number, nMels: number, frames: number): ClipArrays {
  const waves = Array.from({ length: n }, (_, i) => noise(samples, 2 * i + 1, 0.1));
  const mels = Array.from({ length: n }, (_, i) => noise(nMels * frames, 2 * i + 2, 20));
  return { samples, nMels, frames, wave: (i) => waves[i]!, logmel: (i) => mels[i]! };
}

/**
 * Times the experiment's system on random clips with the training step `exp run` executes
 * (src/train/train-step.ts: mixup of waveform and log-Mel, forward, backward in micro-batches,
 * AdamW update, BatchNorm statistics) and its test-time scorer.
 */
export async function runBench(config: ExperimentConfig, opts: BenchOptions): Promise<BenchResult> {
  if (opts.batch < 2)
    throw new UserError(
      `--batch must be at least 2 (BatchNorm in training mode needs more than one clip), got ${opts.batch}`,
    );
  const loadBefore = os.loadavg()[0]!;
  const info = await initBackend(opts.backend, { threads: opts.threads });
  const classCount = opts.classes ?? 41;
  const b = opts.batch;
  const samples = Math.round(config.data.seconds * config.data.sampleRate);
  const frames = Math.floor(samples / config.features.logmel.hop) + 1;
  const nMels = config.features.logmel.nMels;
  const classes = benchClasses(classCount);
  const system = buildSystem(config, classes, opts.parts);
  const params = trainedParams(system);
  const optimizer = new AdamW(
    params.params,
    { weightDecay: config.train.weightDecay },
    params.multipliers,
    params.epsilons,
  );
  // Two pools of clips, mixed as the trainer mixes them (one lambda per batch, a partner per clip).
  const clips = noiseClips(2 * b, samples, nMels, frames);
  const classIndex = Int32Array.from({ length: 2 * b }, (_, i) => (i < b ? i : i * 7 + 3) % classCount);
  const wanted = config.train.microBatch ?? autoMicroBatch(info.backend, config.data.seconds, b);
  // On a GPU, the same pre-training check as exp run: a micro-batch that fits the device.
  const fit = await fitDevice(
    system,
    { clips, count: 2 * b, classIndex, meta: [] },
    Math.min(wanted, b),
    config.train.microBatch !== null,
  );
  const micro = fit?.micro ?? wanted;
  let gpuPeak = 0;
  const gpuBytes = () => {
    // tfjs-backend-webgpu 4.22: the bytes of every buffer it holds on the device, pooled ones included.
    const m = tf.memory() as { numBytesAllocatedInGPU?: number };
    if (m.numBytesAllocatedInGPU !== undefined) gpuPeak = Math.max(gpuPeak, m.numBytesAllocatedInGPU);
  };
  const rig: StepRig = { system, params, optimizer, clips, classIndex, micro };
  const rows = Array.from({ length: b }, (_, i) => i);
  const partners = rows.map((i) => b + i);
  const mixup = system.mixupAlpha !== null;

  const step = async (i: number): Promise<void> => {
    const lam = mixup ? 0.3 + 0.4 * ((i * 0.618) % 1) : 1;
    await trainStep(rig, { rows, partners, lam, mixup }, config.train.lr, { where: `at bench step ${i + 1}` });
    gpuBytes();
  };

  const inferBatch = async (): Promise<void> => {
    const inputs = makeInputs(clips, rows);
    const labels = tf.tensor1d(
      rows.map((r) => classIndex[r]!),
      'int32',
    );
    await guarded('in a bench inference batch', () => Promise.resolve(system.score(inputs, labels)));
    gpuBytes();
    tf.dispose([inputs.wave, inputs.logmel, labels]);
  };

  try {
    const warmup = opts.warmup ?? 1;
    for (let i = 0; i < warmup; i++) {
      opts.onStep?.('warmup', i);
      await step(i);
      await inferBatch();
    }
    const before = tf.memory().numTensors;
    let t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) {
      opts.onStep?.('train', i);
      await step(warmup + i);
    }
    const trainMs = (performance.now() - t0) / opts.steps;
    const after = tf.memory().numTensors;
    // The first score after training folds the new weights into the evaluation-mode model
    // (src/model/inference): once per scoring pass of a test set, so timed on its own.
    opts.onStep?.('fold', 0);
    t0 = performance.now();
    await inferBatch();
    const firstMs = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) {
      opts.onStep?.('infer', i);
      await inferBatch();
    }
    const inferMs = (performance.now() - t0) / opts.steps;
    const total = Object.values(system.paramsByModule()).reduce((a, n) => a + n, 0);
    return {
      backend: info.backend,
      threads: info.threads,
      batch: b,
      microBatch: micro,
      steps: opts.steps,
      warmup,
      experiment: config.name,
      params: total,
      train: { clipsPerSec: (b * 1000) / trainMs, msPerStep: trainMs },
      infer: { clipsPerSec: (b * 1000) / inferMs, msPerBatch: inferMs, firstBatchMs: firstMs },
      loadAverage: loadBefore,
      cpus: os.cpus().length,
      tensors: { before, after },
      ...heapBytes(),
      ...(info.simdKernels ? { simdKernels: info.simdKernels } : {}),
      ...(info.nativeKernels ? { nativeKernels: info.nativeKernels } : {}),
      ...(info.gpu ? { gpu: info.gpu, gpuPeakBytes: gpuPeak } : {}),
    };
  } finally {
    optimizer.dispose();
    system.dispose();
  }
}
