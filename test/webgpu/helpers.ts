import * as tf from '@tensorflow/tfjs';
import { parseOverride } from '../../src/config/load.js';
import { loadExperiment } from '../../src/parts/experiment.js';
import { defaultCatalog } from '../../src/parts/builtin.js';
import type { ExperimentConfig } from '../../src/config/schema.js';
import { initBackend, type BackendInfo, type BackendName } from '../../src/backend/select.js';
import { buildSystem } from '../../src/systems/build.js';
import type { SystemClass } from '../../src/systems/types.js';
import { trainedParams, accumulateGradients } from '../../src/train/step.js';
import { makeInputs, type ClipArrays } from '../../src/train/batch.js';
import { logMel } from '../../src/features/logmel.js';

/**
 * The WebGPU device every test here needs. Without it (no `webgpu` package, or Debian 12's Mesa
 * 22 whose lavapipe Dawn cannot use) the tests fail with this message: they never skip.
 */
export async function requireWebgpu(): Promise<BackendInfo> {
  try {
    return await initBackend('webgpu');
  } catch (e) {
    throw new Error(
      `no WebGPU device: ${e instanceof Error ? e.message : String(e)} (on Debian 12: mesa-vulkan-drivers >= 25 from bookworm-backports, see .ci/run)`,
    );
  }
}

/** A built-in experiment at test size: short clips and the given overrides. */
export function testConfig(file: string, sets: string[]): ExperimentConfig {
  return loadExperiment(
    `experiments/${file}`,
    ['data.seconds=1', ...sets].map((s) => parseOverride(s)),
  );
}

export const CLASSES: SystemClass[] = [
  { type: 'fan', machineId: 'id_00' },
  { type: 'fan', machineId: 'id_02' },
  { type: 'valve', machineId: 'id_00' },
  { type: 'valve', machineId: 'id_02' },
];

/**
 * The clips with every sample and log-Mel value multiplied by (1 + perturb * u), u uniform in
 * [-1, 1] and seeded: a change of the size of float32 rounding (2^-24 = 6e-8 relative) when
 * perturb is a few times that, to measure how much a model amplifies rounding of its inputs.
 */
export function perturbed(clips: ClipArrays, count: number, perturb: number, seed = 777): ClipArrays {
  let s = seed;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const scale = (x: Float32Array) => Float32Array.from(x, (v) => v * (1 + perturb * u()));
  const waves = Array.from({ length: count }, (_, i) => scale(clips.wave(i)));
  const mels = Array.from({ length: count }, (_, i) => scale(clips.logmel(i)));
  return { ...clips, wave: (i) => waves[i]!, logmel: (i) => mels[i]! };
}

/** Seeded machine-like clips (a few harmonics and noise) and their log-Mels, the run's front end. */
export function testClips(config: ExperimentConfig, n: number): ClipArrays {
  const sr = config.data.sampleRate;
  const samples = Math.round(config.data.seconds * sr);
  let s = 12345;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
  const lm = config.features.logmel;
  const opts = { ...lm, fMax: lm.fMax ?? undefined, sampleRate: sr };
  const waves: Float32Array[] = [];
  const mels: Float32Array[] = [];
  let shape: [number, number] = [0, 0];
  for (let c = 0; c < n; c++) {
    const f0 = 90 + 37 * c;
    const w = Float32Array.from(
      { length: samples },
      (_, i) =>
        0.3 * Math.sin((2 * Math.PI * f0 * i) / sr) + 0.1 * Math.sin((2 * Math.PI * 3.1 * f0 * i) / sr) + 0.05 * u(),
    );
    const m = logMel(w, opts);
    shape = m.shape;
    waves.push(w);
    mels.push(m.data);
  }
  return { samples, nMels: shape[0], frames: shape[1], wave: (i) => waves[i]!, logmel: (i) => mels[i]! };
}

export interface StepReading {
  loss: number;
  grads: Map<string, Float32Array>;
}

/**
 * One training step's loss and gradients (training mode, with mixup when the system mixes) of a
 * freshly built system on `backend`. Weights come from the config's seed through our own
 * initialiser, so every backend starts from the same numbers. `perturb`: the clips perturbed (see perturbed).
 */
export async function stepOn(
  backend: BackendName,
  config: ExperimentConfig,
  perturb = 0,
  seed?: number,
): Promise<StepReading> {
  await initBackend(backend);
  const clips = perturb > 0 ? perturbed(testClips(config, 4), 4, perturb, seed) : testClips(config, 4);
  const system = buildSystem(config, CLASSES, defaultCatalog());
  try {
    const { vars, byParam } = trainedParams(system);
    await system.prepare?.();
    const rows = [0, 1, 2, 3];
    const partners = [2, 3, 0, 1];
    const mixup = system.mixupAlpha !== null;
    const lam = mixup ? 0.63 : 1;
    const inputs = makeInputs(clips, rows, mixup ? { partners, lam } : undefined);
    const ids = Int32Array.from([0, 1, 2, 3]);
    const labelsA = tf.tensor1d(ids, 'int32');
    const labelsB = tf.tensor1d(partners, 'int32');
    const acc = new Map<string, tf.Tensor>();
    const { loss } = await accumulateGradients(system, vars, inputs, { labelsA, labelsB, lam, ids }, 1, acc);
    const named = byParam(acc);
    const grads = new Map<string, Float32Array>();
    for (const [k, g] of Object.entries(named)) grads.set(k, Float32Array.from(await g.data()));
    tf.dispose([...acc.values(), inputs.wave, inputs.logmel, labelsA, labelsB]);
    return { loss, grads };
  } finally {
    system.dispose();
  }
}

export interface Drift {
  /** |loss_a - loss_b| / |loss_b|. */
  loss: number;
  /** ||g_a - g_b|| / ||g_b|| over all gradients at once. */
  total: number;
  /** The same per parameter: median and worst (parameters whose gradient norm is below 1e-6 of the largest are left out). */
  median: number;
  worst: number;
  worstParam: string;
}

export function drift(a: StepReading, b: StepReading): Drift {
  let dd = 0;
  let gg = 0;
  const per: Array<[string, number]> = [];
  const norm = (g: Float32Array) => Math.sqrt(g.reduce((acc, v) => acc + v * v, 0));
  const norms = [...b.grads].map(([, g]) => norm(g));
  const big = Math.max(...norms);
  for (const [k, gb] of b.grads) {
    const ga = a.grads.get(k);
    if (!ga) throw new Error(`gradient ${k} missing`);
    let d = 0;
    let n = 0;
    for (let i = 0; i < gb.length; i++) {
      d += (ga[i]! - gb[i]!) ** 2;
      n += gb[i]! ** 2;
    }
    dd += d;
    gg += n;
    if (Math.sqrt(n) > 1e-6 * big) per.push([k, Math.sqrt(d / n)]);
  }
  per.sort((x, y) => x[1] - y[1]);
  const worst = per[per.length - 1]!;
  return {
    loss: Math.abs(a.loss - b.loss) / Math.abs(b.loss),
    total: Math.sqrt(dd / gg),
    median: per[Math.floor(per.length / 2)]![1],
    worst: worst[1],
    worstParam: worst[0],
  };
}

export const fmt = (d: Drift): string =>
  `loss ${d.loss.toExponential(1)}, gradients total ${d.total.toExponential(1)}, per parameter median ${d.median.toExponential(1)} worst ${d.worst.toExponential(1)} (${d.worstParam})`;
