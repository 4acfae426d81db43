import type * as tf from '@tensorflow/tfjs';
import type { Module } from './types.js';
import { Init } from './init.js';
import type { BatchNormParams } from './nn.js';

/**
 * Base of every zoo module: owns its weights under stable names "<module>/<weight>" (the names used
 * by checkpoints and `exp params`), draws their initial values from its own seeded stream, and
 * frees them in dispose().
 */
export abstract class BaseModule implements Module {
  private readonly weights = new Map<string, tf.Variable>();
  private readonly stats = new Map<string, tf.Variable>();
  protected readonly init: Init;

  constructor(
    readonly name: string,
    seed: number,
  ) {
    this.init = new Init(seed, name);
  }

  /** Registers a trainable weight as "<module>/<path>". */
  protected param(path: string, v: tf.Variable): tf.Variable {
    return add(this.weights, `${this.name}/${path}`, v);
  }

  /** Registers non-trainable state (BatchNorm running statistics). */
  protected buffer(path: string, v: tf.Variable): tf.Variable {
    return add(this.stats, `${this.name}/${path}`, v);
  }

  /** BatchNorm weights (gamma 1, beta 0) and running statistics (mean 0, var 1), as PyTorch. */
  protected batchNormParams(path: string, channels: number): BatchNormParams {
    return {
      gamma: this.param(`${path}/gamma`, this.init.constant([channels], 1)),
      beta: this.param(`${path}/beta`, this.init.constant([channels], 0)),
      runningMean: this.buffer(`${path}/runningMean`, this.init.constant([channels], 0, false)),
      runningVar: this.buffer(`${path}/runningVar`, this.init.constant([channels], 1, false)),
    };
  }

  /** PReLU slopes, one per channel, 0.25 as torch.nn.PReLU. */
  protected preluParams(path: string, channels: number): tf.Variable {
    return this.param(path, this.init.constant([channels], 0.25));
  }

  trainable(): Map<string, tf.Variable> {
    return new Map(this.weights);
  }

  state(): Map<string, tf.Variable> {
    return new Map(this.stats);
  }

  /** Number of trainable scalars. */
  paramCount(): number {
    let n = 0;
    for (const v of this.weights.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    for (const v of this.stats.values()) v.dispose();
    this.weights.clear();
    this.stats.clear();
  }
}

function add(map: Map<string, tf.Variable>, key: string, v: tf.Variable): tf.Variable {
  if (map.has(key)) throw new Error(`weight ${key} is registered twice`);
  map.set(key, v);
  return v;
}
