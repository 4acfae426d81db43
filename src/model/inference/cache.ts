import type * as tf from '@tensorflow/tfjs';
import type { AsdModel } from '../types.js';
import type { InferenceModel } from './types.js';

/**
 * The folded model of an AsdModel, re-folded only when a weight or running statistic changed.
 * Every update of a tf.Variable (optimizer steps, BatchNorm statistics, checkpoint restores) goes
 * through assign(), which gives the variable a new data id; so the fold is current exactly when
 * every variable still has the data id it had when it was folded. Scoring a test set in many
 * batches folds once.
 */
export class FoldCache {
  private folded: InferenceModel | null = null;
  private ids: unknown[] = [];

  get(model: AsdModel): InferenceModel {
    const vars: tf.Variable[] = [...model.trainable().values(), ...model.state().values()];
    const ids = vars.map((v) => (v as unknown as { dataId: unknown }).dataId);
    if (this.folded && ids.length === this.ids.length && ids.every((id, i) => id === this.ids[i])) return this.folded;
    this.dispose();
    this.folded = model.fold();
    this.ids = ids;
    return this.folded;
  }

  dispose(): void {
    this.folded?.dispose();
    this.folded = null;
    this.ids = [];
  }
}
