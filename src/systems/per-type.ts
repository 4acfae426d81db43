import * as tf from '@tensorflow/tfjs';
import type { ModelInputs, ForwardContext } from '../model/types.js';
import type { MixTargets } from '../losses/types.js';
import type { AsdSystem, ObjectiveResult, SystemClass } from './types.js';

/** One machine type's model and the global class indices it serves (local index = position). */
export interface TypePart {
  type: string;
  system: AsdSystem;
  classes: number[];
}

/**
 * One model per machine type behind one AsdSystem (the DCASE 2020 baseline and the other
 * baselines of Table 2 train a model per type). Each batch is split by type; each type's rows go
 * to its own model with type-local labels. The loss is the row-weighted mean of the types' losses,
 * so each model's gradient is that of its own rows (the models share no weights). Weight names
 * carry the type prefix, so checkpoints hold and resume every type's model.
 */
export class PerTypeSystem implements AsdSystem {
  readonly termNames: readonly string[];
  readonly mixupAlpha = null;
  private readonly partOf: Int32Array;
  private readonly localOf: Int32Array;

  constructor(
    private readonly parts: readonly TypePart[],
    classes: readonly SystemClass[],
  ) {
    this.termNames = parts[0]?.system.termNames ?? [];
    this.partOf = new Int32Array(classes.length).fill(-1);
    this.localOf = new Int32Array(classes.length).fill(-1);
    parts.forEach((p, i) => p.classes.forEach((g, local) => ((this.partOf[g] = i), (this.localOf[g] = local))));
    for (const p of parts) {
      if (p.system.mixupAlpha !== null)
        throw new Error(`per-type model of ${p.type}: input mixup across types is not defined`);
    }
  }

  get inputChannels(): number {
    return this.parts[0]!.system.inputChannels;
  }

  get clip() {
    return this.parts[0]!.system.clip;
  }

  private collect<T>(f: (s: AsdSystem) => Map<string, T>): Map<string, T> {
    return new Map(this.parts.flatMap((p) => [...f(p.system)]));
  }

  trainable() {
    return this.collect((s) => s.trainable());
  }

  lrMultipliers() {
    return this.collect((s) => s.lrMultipliers());
  }

  adamEpsilons() {
    return this.collect((s) => s.adamEpsilons());
  }

  state() {
    return this.collect((s) => s.state());
  }

  paramsByModule(): Record<string, number> {
    return Object.assign({}, ...this.parts.map((p) => p.system.paramsByModule()));
  }

  objectiveParams(): Record<string, number> {
    return Object.assign({}, ...this.parts.map((p) => p.system.objectiveParams()));
  }

  /** The rows of each type in a batch (global class indices on the host), with type-local labels. */
  private groups(ids: ArrayLike<number>): Array<{ part: TypePart; rows: number[]; local: number[] }> {
    const out = this.parts.map((part) => ({ part, rows: [] as number[], local: [] as number[] }));
    Array.from(ids).forEach((g, r) => {
      const i = this.partOf[g];
      if (i === undefined || i < 0) throw new Error(`class ${g} belongs to no per-type model`);
      out[i]!.rows.push(r);
      out[i]!.local.push(this.localOf[g]!);
    });
    return out.filter((g) => g.rows.length > 0);
  }

  private static take(inputs: ModelInputs, rows: number[]): ModelInputs {
    const idx = tf.tensor1d(rows, 'int32');
    const out = { wave: tf.gather(inputs.wave, idx), logmel: tf.gather(inputs.logmel, idx) };
    idx.dispose();
    return out;
  }

  objective(inputs: ModelInputs, targets: MixTargets, ctx: ForwardContext): ObjectiveResult {
    const batch = inputs.logmel.shape[0];
    let total = tf.scalar(0);
    const terms: Record<string, tf.Scalar> = Object.fromEntries(this.termNames.map((t) => [t, tf.scalar(0)]));
    // Inside the gradient tape nothing can wait for a read: the trainer passes the labels on the host.
    if (!targets.ids) throw new Error('per-type objective: targets.ids (labelsA on the host) is required');
    for (const { part, rows, local } of this.groups(targets.ids)) {
      const labels = tf.tensor1d(local, 'int32');
      const r = part.system.objective(
        PerTypeSystem.take(inputs, rows),
        { labelsA: labels, labelsB: labels, lam: 1 },
        ctx,
      );
      const w = rows.length / batch;
      total = total.add(r.total.mul(w));
      for (const t of this.termNames) terms[t] = terms[t]!.add(r.terms[t]!.mul(w));
    }
    return { total, terms };
  }

  async prepare(): Promise<void> {
    for (const p of this.parts) await p.system.prepare?.();
  }

  async validationLoss(inputs: ModelInputs, labels: tf.Tensor1D): Promise<number> {
    let sum = 0;
    for (const { part, rows, local } of this.groups(await labels.data())) {
      const sub = PerTypeSystem.take(inputs, rows);
      const l = tf.tensor1d(local, 'int32');
      sum += (await part.system.validationLoss(sub, l)) * rows.length;
      tf.dispose([sub.wave, sub.logmel, l]);
    }
    return sum / labels.shape[0];
  }

  async score(inputs: ModelInputs, labels: tf.Tensor1D): Promise<Float32Array> {
    const out = new Float32Array(labels.shape[0]);
    for (const { part, rows, local } of this.groups(await labels.data())) {
      const sub = PerTypeSystem.take(inputs, rows);
      const l = tf.tensor1d(local, 'int32');
      (await part.system.score(sub, l)).forEach((s, k) => (out[rows[k]!] = s));
      tf.dispose([sub.wave, sub.logmel, l]);
    }
    return out;
  }

  dispose(): void {
    for (const p of this.parts) p.system.dispose();
  }
}

/** Groups global class indices by machine type, in first-seen order. */
export function classesByType(classes: readonly SystemClass[]): Array<{ type: string; classes: number[] }> {
  const out = new Map<string, number[]>();
  classes.forEach((c, i) => out.set(c.type, [...(out.get(c.type) ?? []), i]));
  return [...out].map(([type, idx]) => ({ type, classes: idx }));
}
