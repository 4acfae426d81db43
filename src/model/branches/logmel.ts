import type * as tf from '@tensorflow/tfjs';
import type { BranchArgs, FeatureBranch, ModelInputs } from '../types.js';
import { BaseModule } from '../module.js';

/** F_LM (§2.1.2): the log-Mel map itself, computed outside the graph by src/features/logmel.ts. */
export class LogMelBranch extends BaseModule implements FeatureBranch {
  apply(inputs: ModelInputs): tf.Tensor3D {
    return inputs.logmel.clone();
  }
}

export function createLogMelBranch(args: BranchArgs): FeatureBranch {
  return new LogMelBranch(args.name, args.seed);
}
