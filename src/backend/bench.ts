import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import type { ExperimentConfig } from '../config/schema.js';
import { buildLosses, buildModel } from '../registry/container.js';
import { accumulateGradients, trainedParams } from '../train/step.js';
import { AdamW } from '../train/adamw.js';
import type { ForwardContext, ModelInputs } from '../model/types.js';
import { initBackend, type BackendName } from './select.js';
import { memoryOf, type WasmBackend } from './kernels/wasm-util.js';
import { ClassifierSystem } from '../systems/classifier.js';
import { UserError } from '../util/errors.js';

/** What `exp bench --json` prints (the README; more fields than the fixed ones). */
export interface BenchResult {
  backend: string;
  threads: number;
  batch: number;
  steps: number;
  warmup: number;
  experiment: string;
  params: number;
  train: { clipsPerSec: number; msPerStep: number };
  infer: { clipsPerSec: number; msPerBatch: number };
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
}

export interface BenchOptions {
  backend: BackendName;
  threads?: number;
  batch: number;
  steps: number;
  warmup?: number;
  /** Classes of the head: the 41 machine IDs of DCASE 2020 Task 2. */
  classes?: number;
  /** Called before each warm-up / timed step, for progress output. */
  onStep?: (phase: 'warmup' | 'train' | 'infer', i: number) => void;
}

function heapBytes(): { wasmHeapBytes?: number } {
  if (tf.getBackend() !== 'wasm') return {};
  // Shared memory under threads, the module's exported memory on one thread.
  return { wasmHeapBytes: memoryOf(tf.backend() as unknown as WasmBackend).buffer.byteLength };
}

/** Seeded uniform noise in [-scale, scale): benchmark inputs need no realism, only the shapes. */
function noise(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

/**
 * Times the experiment's whole model on random 10 s clips: training steps (mixup of waveform
 * and log-Mel as the trainer does, forward, backward, AdamW update, BatchNorm statistics) and
 * inference (embedding + head in evaluation mode).
 */
export async function runBench(config: ExperimentConfig, opts: BenchOptions): Promise<BenchResult> {
  if (opts.batch < 2) throw new UserError(`--batch must be at least 2 (BatchNorm in training mode needs more than one clip), got ${opts.batch}`);
  const loadBefore = os.loadavg()[0]!;
  const info = await initBackend(opts.backend, { threads: opts.threads });
  const classes = opts.classes ?? 41;
  const b = opts.batch;
  const samples = Math.round(config.data.seconds * config.data.sampleRate);
  const frames = Math.floor(samples / config.features.logmel.hop) + 1;
  const nMels = config.features.logmel.nMels;
  const model = buildModel(config, classes);
  const losses = buildLosses(config, classes);
  const cls = losses.classification;
  if (!cls) throw new UserError('loss.classification is null: exp bench times the classification training step');
  const system = new ClassifierSystem(config, model, { classification: cls, metric: losses.metric });
  const { params, multipliers, vars, byParam } = trainedParams(system);
  const optimizer = new AdamW(params, { weightDecay: config.train.weightDecay }, multipliers);
  // Two pools of clips, mixed as Noisy-ArcMix does (one lambda per batch, a partner per clip).
  const waveA = noise(b * samples, 1, 0.1);
  const waveB = noise(b * samples, 2, 0.1);
  const melA = noise(b * nMels * frames, 3, 20);
  const melB = noise(b * nMels * frames, 4, 20);
  const labels = Array.from({ length: b }, (_, i) => i % classes);
  const partners = Array.from({ length: b }, (_, i) => (i * 7 + 3) % classes);

  const mixed = (lam: number): ModelInputs =>
    tf.tidy(() => {
      const mix = (x: Float32Array, y: Float32Array, shape: number[]) => tf.tensor(x, shape).mul(lam).add(tf.tensor(y, shape).mul(1 - lam));
      return {
        wave: mix(waveA, waveB, [b, samples]) as tf.Tensor2D,
        logmel: mix(melA, melB, [b, nMels, frames]) as tf.Tensor3D,
      };
    });

  const trainStep = (i: number): void => {
    const lam = cls.mixup ? 0.3 + 0.4 * ((i * 0.618) % 1) : 1;
    const inputs = mixed(lam);
    const labelsA = tf.tensor1d(labels, 'int32');
    const labelsB = tf.tensor1d(cls.mixup ? partners : labels, 'int32');
    const acc = new Map<string, tf.Tensor>();
    accumulateGradients(system, vars, inputs, { labelsA, labelsB, lam }, 1, acc);
    optimizer.apply(byParam(acc), config.train.lr);
    tf.dispose([...acc.values(), inputs.wave, inputs.logmel, labelsA, labelsB]);
  };

  const inferBatch = (): void => {
    const inputs = mixed(1);
    const ctx: ForwardContext = { training: false, updates: [] };
    const logits = tf.tidy(() => tf.matMul(model.embed(inputs, ctx), model.head.weight, false, true));
    logits.dataSync();
    tf.dispose([logits, inputs.wave, inputs.logmel]);
  };

  try {
    const warmup = opts.warmup ?? 1;
    for (let i = 0; i < warmup; i++) {
      opts.onStep?.('warmup', i);
      trainStep(i);
      inferBatch();
    }
    const before = tf.memory().numTensors;
    let t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) {
      opts.onStep?.('train', i);
      trainStep(warmup + i);
    }
    const trainMs = (performance.now() - t0) / opts.steps;
    const after = tf.memory().numTensors;
    t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) {
      opts.onStep?.('infer', i);
      inferBatch();
    }
    const inferMs = (performance.now() - t0) / opts.steps;
    let total = 0;
    for (const v of model.trainable().values()) total += v.size;
    return {
      backend: info.backend,
      threads: info.threads,
      batch: b,
      steps: opts.steps,
      warmup,
      experiment: config.name,
      params: total,
      train: { clipsPerSec: (b * 1000) / trainMs, msPerStep: trainMs },
      infer: { clipsPerSec: (b * 1000) / inferMs, msPerBatch: inferMs },
      loadAverage: loadBefore,
      cpus: os.cpus().length,
      tensors: { before, after },
      ...heapBytes(),
      ...(info.simdKernels ? { simdKernels: info.simdKernels } : {}),
    };
  } finally {
    optimizer.dispose();
    model.dispose();
    for (const v of losses.metric?.trainable().values() ?? []) v.dispose();
  }
}
