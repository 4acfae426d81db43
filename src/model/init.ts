import * as tf from '@tensorflow/tfjs';
import { deriveSeed, Rng } from '../random/index.js';

/**
 * Seeded weight initialisation. Every module draws from its own stream, derived from the run seed
 * and the module's name, so adding or renaming one branch does not change the others' weights.
 * (mulberry32 from src/random/: initialisation must be reproducible on every backend, and
 * tf.random* seeds differ between backends.)
 */

/** Weight-creating helper handed to each module: names weights and draws from the module's stream. */
export class Init {
  readonly rng: Rng;
  constructor(
    seed: number,
    readonly moduleName: string,
  ) {
    this.rng = new Rng(deriveSeed(seed, moduleName));
  }

  normal(shape: number[], std: number): tf.Variable {
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = this.rng.gaussian() * std;
    return variable(data, shape, true);
  }

  uniform(shape: number[], bound: number): tf.Variable {
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = (2 * this.rng.uniform() - 1) * bound;
    return variable(data, shape, true);
  }

  constant(shape: number[], value: number, trainable = true): tf.Variable {
    return variable(new Float32Array(sizeOf(shape)).fill(value), shape, trainable);
  }
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Unnamed tf.Variable: tfjs names are global per process, so our stable names live in the maps. */
function variable(data: Float32Array, shape: number[], trainable: boolean): tf.Variable {
  const initial = tf.tensor(data, shape, 'float32');
  const v = tf.variable(initial, trainable);
  initial.dispose();
  return v;
}
