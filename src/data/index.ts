export {
  indexDataset,
  parseClipName,
  type Clip,
  type DatasetIndex,
  type DatasetClass,
  type IndexOptions,
} from './dcase.js';
export { summarize, formatSummary, type DatasetSummary, type TypeSummary, type IdSummary } from './summary.js';
export { selectTrainClips, selectTestClips } from './select.js';
export { loadClips, loadClip, type LoadOptions } from './load.js';
export {
  synthesize,
  ensureSyntheticDataset,
  renderClip,
  machineIds,
  clipFileName,
  validateSynthOptions,
  DEFAULT_SYNTH_OPTIONS,
  GENERATOR_VERSION,
  GENERATOR_VERSIONS,
  GENERATORS,
  generatorFor,
  defaultSynthOptions,
  type SynthGenerator,
  type SynthOptions,
  type SynthManifest,
  type ClipSpec,
} from './synth/generate.js';
export { MACHINE_TYPES } from './synth/machines/index.js';
