export { builtinPlugins, createCatalog, defaultCatalog } from './builtin.js';
export { loadPluginFiles, catalogFor, sha256Of } from './files.js';
export type { LoadedPlugins } from './files.js';
export { ExperimentConfig, validateExperiment, loadExperiment, readExperiment, takePluginPaths } from './experiment.js';
export type { ReadExperimentOptions } from './experiment.js';
export {
  buildContainer,
  buildModel,
  buildLosses,
  branchModule,
  fusionModule,
  backboneModule,
  headModule,
  lossModule,
  systemModule,
  builtinModules,
} from './container.js';
