import type * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { ExperimentConfig } from '../config/schema.js';
import type { ClipGeometry, ForwardContext, ModelInputs } from '../model/types.js';
import type { MixTargets } from '../losses/types.js';
import type { PartRegistries } from '../registry/parts.js';

/**
 * A system is one row of the paper's Table 2: a front end (the 4-channel branch stack, frame
 * vectors, or log-Mel windows), a model, an objective and a scorer. The trainer sees only this
 * interface: it never asks which system it runs.
 */

/** One (type, machine ID) class of the data: the trainer's global class index is its position. */
export interface SystemClass {
  type: string;
  machineId: string;
}

/** The losses of one micro-batch: the total that is differentiated and its named terms (dashboard, store). */
export interface ObjectiveResult {
  total: tf.Scalar;
  terms: Record<string, tf.Scalar>;
}

/** A built, trainable detector (one model, or one model per machine type behind one face). */
export interface AsdSystem {
  /** Names of the loss terms `objective` reports, in display order. */
  readonly termNames: readonly string[];
  /** Beta(alpha, alpha) input mixup the trainer draws once per batch; null = no mixup. */
  readonly mixupAlpha: number | null;
  readonly clip: ClipGeometry;
  /** Channels of the model's input map (4 for FGASpecNet's stack, 1 for a log-Mel image or vectors). */
  readonly inputChannels: number;
  /** Every trained weight under a stable, unique key (checkpoints and the optimizer use it). */
  trainable(): Map<string, tf.Variable>;
  /** Learning-rate multiplier per trainable key where it is not 1. */
  lrMultipliers(): Map<string, number>;
  /** Adam epsilon per trainable key where it differs from the optimizer's (SoftTriple's centres). */
  adamEpsilons(): Map<string, number>;
  /** Non-trained state saved with checkpoints (BatchNorm running statistics). */
  state(): Map<string, tf.Variable>;
  /** Trainable scalars per model module (the model's count, as Table 5 counts it). */
  paramsByModule(): Record<string, number>;
  /** Trainable scalars owned by the objective (SoftTriple centres): trained, not part of the model. */
  objectiveParams(): Record<string, number>;
  /** Training-mode loss of a micro-batch; labels are global class indices. Called inside tf.variableGrads. */
  objective(inputs: ModelInputs, targets: MixTargets, ctx: ForwardContext): ObjectiveResult;
  /**
   * Evaluation-mode loss of a batch (checkpoint selection on the validation split), batch mean.
   * Built-in systems read it back asynchronously (a GPU backend has no synchronous read); a
   * plain number is accepted too.
   */
  validationLoss(inputs: ModelInputs, labels: tf.Tensor1D): number | Promise<number>;
  /**
   * The validation loss and the machine-ID classification accuracy of a batch from one forward
   * pass (systems that classify IDs); the loop uses it instead of validationLoss when present.
   */
  validationMetrics?(inputs: ModelInputs, labels: tf.Tensor1D): Promise<{ loss: number; accuracy: number }>;
  /** Evaluation-mode anomaly score per clip (higher = more anomalous), read back asynchronously. */
  score(inputs: ModelInputs, labels: tf.Tensor1D): Float32Array | Promise<Float32Array>;
  /**
   * Host-side work a forward pass needs after the weights changed (Glow's log|det W| and W^-1,
   * computed in float64 from W read back asynchronously). The trainer awaits it before every
   * training step; `validationLoss` and `score` await it themselves.
   */
  prepare?(): Promise<void>;
  dispose(): void;
}

/** What a system factory receives. */
export interface SystemArgs {
  config: ExperimentConfig;
  /** The classes this model serves (all of them, or one machine type's IDs). */
  classes: readonly SystemClass[];
  /** Prefix for module names ("" or "fan/"), so per-type models keep distinct weight names. */
  prefix: string;
  /** The run's registries (built-ins, plug-ins): the classifier family picks its parts from them. */
  parts: PartRegistries;
}

/** A named system in the registry: how to build it, and what it declares about itself. */
export interface SystemDefinition {
  /** One model per machine type (AE, IDNN, MobileNetV2, Glow-Aff) or one for all types. */
  perType(config: ExperimentConfig): boolean;
  /**
   * A per-type system whose type model is one model per machine ID (Glow-Aff's per-ID flows, each
   * trained with the type's other IDs as outliers): Table 5 then counts one ID's model.
   */
  modelPerId?(config: ExperimentConfig): boolean;
  /** The key of the paper's Table 2 / Table 5 row this config replays, or null. */
  paperRow(config: ExperimentConfig): string | null;
  /**
   * The config sections this system reads, as dotted key prefixes (`features.logmel`, `ae`), beside
   * the keys every system shares (SHARED_CONFIG_KEYS). `exp show` lists only these, so a baseline's
   * run does not show the classifier family's keys it never read. Absent: every key is shown.
   */
  readonly configKeys?: readonly string[];
  /**
   * The system's own config section (`ae:`): a zod object, strict, filled with its defaults when
   * the system is chosen. Read it with `partSection(config, key)`.
   */
  readonly schema?: z.ZodObject;
  /** The section's key (default: the system's name; glow-aff's is `glow`). */
  readonly section?: string;
  /** Checks names and settings without building weights (user errors before a run is stored). */
  check(config: ExperimentConfig, parts: PartRegistries): void;
  build(args: SystemArgs): AsdSystem;
}
