import * as tf from '@tensorflow/tfjs';

/**
 * Seeded weight initialisation. Every module draws from its own stream, derived from the run seed
 * and the module's name, so adding or renaming one branch does not change the others' weights.
 * (A tiny PRNG of our own: initialisation must be reproducible on every backend, and tf.random*
 * seeds differ between backends.)
 */

/** 32-bit FNV-1a hash of a string, for deriving a stream seed from a module name. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The seed of a module's stream: run seed mixed with the module's name. */
export function deriveSeed(seed: number, name: string): number {
  return (hashString(name) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
}

/** mulberry32: a small, fast, well-mixed 32-bit generator; uniform in [0, 1). */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal by Box-Muller (one value per call; simple beats fast here). */
  normal(): number {
    let u = this.uniform();
    while (u <= 1e-12) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
}

/** Weight-creating helper handed to each module: names weights and draws from the module's stream. */
export class Init {
  readonly rng: Rng;
  constructor(seed: number, readonly moduleName: string) {
    this.rng = new Rng(deriveSeed(seed, moduleName));
  }

  normal(shape: number[], std: number): tf.Variable {
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = this.rng.normal() * std;
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
