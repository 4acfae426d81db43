import * as tf from '@tensorflow/tfjs';
import type { Backbone, FeatureBranch, Fusion, ModelInputs } from '../types.js';
import type { FoldedBackbone, FoldedBranch, InferenceModel } from './types.js';

const EVAL = { training: false, updates: [] as Array<() => void> };

/** A branch's folded form, or its own evaluation-mode forward when it has nothing to fold. */
function foldBranch(b: FeatureBranch): FoldedBranch {
  return b.fold?.() ?? { apply: (inputs) => b.apply(inputs, EVAL), dispose: () => {} };
}

function foldBackbone(b: Backbone): FoldedBackbone {
  return b.fold?.() ?? { apply: (x) => b.apply(x, EVAL), dispose: () => {} };
}

/**
 * The evaluation-mode model: every part folded (BatchNorm into convs, activations fused) where
 * it can fold, else run as it is in evaluation mode. `check` validates the inputs as embed() does.
 */
export function foldModel(
  parts: { branches: readonly FeatureBranch[]; fusion: Fusion; backbone: Backbone },
  check: (inputs: ModelInputs) => void,
): InferenceModel {
  const branches = parts.branches.map(foldBranch);
  const backbone = foldBackbone(parts.backbone);
  return {
    embed(inputs: ModelInputs): tf.Tensor2D {
      check(inputs);
      return tf.tidy(() =>
        backbone.apply(
          parts.fusion.combine(
            branches.map((b) => b.apply(inputs)),
            EVAL,
          ),
        ),
      );
    },
    dispose(): void {
      for (const b of branches) b.dispose();
      backbone.dispose();
    },
  };
}
