/**
 * Import rules for src/, checked by `npm test` (npm run check:imports): no import cycles, and no
 * module importing a layer above its own. Type-only imports count (a type cycle is a design cycle
 * too).
 *
 * The layers, lowest first: data flows one way, YAML -> config -> container (registry) -> model +
 * objective -> (parts: the built-in list and plug-in files) -> trainer -> run session -> store -> sweeps -> dashboard / reports -> executors -> CLI.
 * A folder imports only its own layer and the ones below. The store sits low: it records what a
 * trainer reports through the neutral src/events types and knows nothing of the trainer, the
 * session or the sweeps that write to it. A new top-level folder must be placed here (rule
 * not-in-a-layer).
 */
const LAYERS = [
  ['util', 'types', 'events', 'random', 'paper'],
  ['config', 'audio', 'features', 'metrics'],
  ['data'],
  ['store'],
  ['backend'],
  // The model parts and the registry that assembles them; the order among them is the registry's.
  ['model', 'losses', 'registry', 'systems'],
  // The composition root of the parts: the built-in part modules' list, plug-in files, the config
  // loader with the parts' schemas (it names every part folder, so it sits above them).
  ['parts'],
  ['train', 'preflight'],
  ['session'],
  ['sweep'],
  ['dashboard', 'report', 'bench'],
  ['executor'],
  ['cli'],
];

// exp bench's harness lives in src/backend/ but builds a whole system and trains it: it belongs to
// the 'bench' layer (above train), not to the kernels and backend selection below the model.
const BENCH_FILES = ['^src/backend/bench\\.ts$'];

const inLayers = (names) => {
  const folders = `^src/(${names.join('|')})/`;
  return names.includes('bench') ? [folders, ...BENCH_FILES] : [folders];
};

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer[0]}`,
  comment: `${layer.join(', ')} must not import a higher layer (${LAYERS.slice(i + 1).flat().join(', ')})`,
  severity: 'error',
  from: { path: inLayers(layer), pathNot: layer.includes('backend') ? BENCH_FILES : [] },
  to: { path: inLayers(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'not-in-a-layer',
      comment: 'every top-level folder of src/ has a place in LAYERS (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: '^src/', pathNot: [`^src/(${LAYERS.flat().join('|')})/`, '^src/index\\.ts$'] },
      to: {},
    },
    {
      name: 'no-public-index-inside',
      comment: 'src/index.ts is the public surface; nothing inside imports it',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
