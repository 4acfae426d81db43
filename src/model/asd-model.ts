import * as tf from '@tensorflow/tfjs';
import type {
  AsdModel,
  Backbone,
  ClipGeometry,
  FeatureBranch,
  ForwardContext,
  Fusion,
  Head,
  Module,
  ModelInputs,
} from './types.js';
import { UserError } from '../util/errors.js';
import { foldModel } from './inference/model.js';
import type { InferenceModel } from './inference/types.js';

/**
 * The assembled model: branches -> fusion -> backbone = embedding [B, D]; the head's weight is
 * read by the loss. Built by the registry (src/registry/container.ts) from a validated config.
 */
export class ZooModel implements AsdModel {
  private readonly modules: Module[];

  constructor(
    readonly branches: readonly FeatureBranch[],
    readonly fusion: Fusion,
    readonly backbone: Backbone,
    readonly head: Head,
    readonly clip: ClipGeometry,
  ) {
    this.modules = [...branches, fusion, backbone, head];
    const names = new Set<string>();
    for (const m of this.modules) {
      if (names.has(m.name))
        throw new UserError(`two model modules are named "${m.name}"; give the parts distinct names`);
      names.add(m.name);
    }
    // Weight names must be unique across modules: checkpoints are keyed by them.
    this.trainable();
    this.state();
  }

  embed(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor2D {
    this.checkInputs(inputs);
    return tf.tidy(() => {
      const maps = this.branches.map((b) => b.apply(inputs, ctx));
      return this.backbone.apply(this.fusion.combine(maps, ctx), ctx);
    });
  }

  fold(): InferenceModel {
    return foldModel(this, (inputs) => this.checkInputs(inputs));
  }

  private checkInputs({ wave, logmel }: ModelInputs): void {
    const { nMels, frames, samples, sampleRate, hop } = this.clip;
    const geometry = `(${samples} samples = data.seconds at ${sampleRate} Hz, features.logmel.hop ${hop})`;
    if (logmel.rank !== 3 || logmel.shape[1] !== nMels || logmel.shape[2] !== frames) {
      throw new UserError(
        `model inputs: logmel has shape [${logmel.shape.join(', ')}], the model was built for [B, ${nMels}, ${frames}] ${geometry}`,
      );
    }
    if (wave.rank !== 2 || wave.shape[1] !== samples || wave.shape[0] !== logmel.shape[0]) {
      throw new UserError(
        `model inputs: wave has shape [${wave.shape.join(', ')}], the model was built for [${logmel.shape[0]}, ${samples}] ${geometry}`,
      );
    }
  }

  trainable(): Map<string, tf.Variable> {
    return merge(this.modules.map((m) => m.trainable()));
  }

  state(): Map<string, tf.Variable> {
    return merge(this.modules.map((m) => m.state()));
  }

  paramsByModule(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.modules) {
      let n = 0;
      for (const v of m.trainable().values()) n += v.size;
      out[m.name] = n;
    }
    return out;
  }

  totalParams(): number {
    return Object.values(this.paramsByModule()).reduce((a, b) => a + b, 0);
  }

  dispose(): void {
    for (const v of this.trainable().values()) v.dispose();
    for (const v of this.state().values()) v.dispose();
  }
}

function merge(maps: Array<Map<string, tf.Variable>>): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const map of maps) {
    for (const [k, v] of map) {
      if (out.has(k)) throw new Error(`weight name "${k}" is used by two modules`);
      out.set(k, v);
    }
  }
  return out;
}
