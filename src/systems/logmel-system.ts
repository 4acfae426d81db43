import * as tf from '@tensorflow/tfjs';
import type { BaseModule } from '../model/module.js';
import type { ClipGeometry, ForwardContext, ModelInputs } from '../model/types.js';
import type { MixTargets } from '../losses/types.js';
import type { AsdSystem, ObjectiveResult } from './types.js';

/**
 * What a baseline of Table 2 supplies: its modules, a training objective over a batch of log-Mel
 * maps [B, nMels, T], and a per-clip score. Labels are the model's own (type-local) ID indices.
 */
export interface LogMelDetector {
  readonly termNames: readonly string[];
  readonly modules: readonly BaseModule[];
  objective(logmel: tf.Tensor3D, labels: tf.Tensor1D, ctx: ForwardContext): ObjectiveResult;
  /** Anomaly score per clip [B], evaluation mode. */
  clipScores(logmel: tf.Tensor3D, labels: tf.Tensor1D): tf.Tensor1D;
  /** Host-side work after the weights changed (see AsdSystem.prepare). */
  prepare?(): Promise<void>;
}

/** A detector that reads only the log-Mel map (no waveform branch, no mixup). */
export class LogMelSystem implements AsdSystem {
  readonly mixupAlpha = null;
  readonly inputChannels = 1;

  constructor(
    private readonly detector: LogMelDetector,
    readonly clip: ClipGeometry,
  ) {}

  get termNames(): readonly string[] {
    return this.detector.termNames;
  }

  trainable(): Map<string, tf.Variable> {
    return new Map(this.detector.modules.flatMap((m) => [...m.trainable()]));
  }

  lrMultipliers(): Map<string, number> {
    return new Map();
  }

  adamEpsilons(): Map<string, number> {
    return new Map();
  }

  state(): Map<string, tf.Variable> {
    return new Map(this.detector.modules.flatMap((m) => [...m.state()]));
  }

  paramsByModule(): Record<string, number> {
    return Object.fromEntries(this.detector.modules.map((m) => [m.name, m.paramCount()]));
  }

  objectiveParams(): Record<string, number> {
    return {};
  }

  objective(inputs: ModelInputs, targets: MixTargets, ctx: ForwardContext): ObjectiveResult {
    return this.detector.objective(inputs.logmel, targets.labelsA, ctx);
  }

  async prepare(): Promise<void> {
    await this.detector.prepare?.();
  }

  async validationLoss(inputs: ModelInputs, labels: tf.Tensor1D): Promise<number> {
    await this.prepare();
    const ctx: ForwardContext = { training: false, updates: [] };
    const l = tf.tidy(() => this.detector.objective(inputs.logmel, labels, ctx).total);
    const v = (await l.data())[0]!;
    l.dispose();
    return v;
  }

  async score(inputs: ModelInputs, labels: tf.Tensor1D): Promise<Float32Array> {
    await this.prepare();
    const s = tf.tidy(() => this.detector.clipScores(inputs.logmel, labels));
    const out = Float32Array.from(await s.data());
    s.dispose();
    return out;
  }

  dispose(): void {
    for (const m of this.detector.modules) m.dispose();
  }
}
