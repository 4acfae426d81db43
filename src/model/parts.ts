import type { PartsApi } from '../registry/catalog.js';
import { createLogMelBranch } from './branches/logmel.js';
import { createTgramBranch } from './branches/tgram.js';
import { createTAgramBranch } from './branches/tagram.js';
import { createSpecNetBranch } from './branches/specnet.js';
import { createFgaSpecBranch } from './branches/fga-spec.js';
import { createConcatFusion } from './fusions/concat.js';
import { createMobileFaceNet } from './backbones/mobilefacenet.js';
import { createArcFaceHead } from './heads/arcface.js';

/**
 * The model zoo's parts, registered through the API plug-ins use. Their settings are the shared
 * `features` and `model` sections (features.fga for fga-spec, model.bottlenecks for
 * mobilefacenet), so they declare no sections of their own. A new built-in part = one file + one
 * line here.
 */
export function modelParts(exp: PartsApi): void {
  // Feature branches (§2.1, §2.2): the names `features.branches` may list.
  exp.registerBranch('logmel', createLogMelBranch);
  exp.registerBranch('tgram', createTgramBranch);
  exp.registerBranch('tagram', createTAgramBranch);
  exp.registerBranch('specnet', createSpecNetBranch);
  exp.registerBranch('fga-spec', createFgaSpecBranch);
  // Fusion of the branch maps (§2.2), backbone and head: model.fusion, model.backbone, model.head.
  exp.registerFusion('concat', createConcatFusion);
  exp.registerBackbone('mobilefacenet', createMobileFaceNet);
  exp.registerHead('arcface', createArcFaceHead);
}
