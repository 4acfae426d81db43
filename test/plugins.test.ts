import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCatalog, defaultCatalog } from '../src/parts/builtin.js';
import { catalogFor, loadPluginFiles } from '../src/parts/files.js';
import { ExperimentConfig, loadExperiment, readExperiment, validateExperiment } from '../src/parts/experiment.js';
import { experimentHash } from '../src/config/hash.js';
import { checkSystem } from '../src/systems/build.js';
import type { PartsApi } from '../src/registry/catalog.js';
import type { ClassificationLossFactory } from '../src/losses/registry.js';

// The registration API, the composed schema and plug-in files, in-process. The end-to-end path
// (exp run / sweep / worker with a plug-in file outside the repository) is test/plugins-cli.test.ts.

const EXAMPLE = resolve('examples/focal-loss.mjs');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const focal: ClassificationLossFactory = (cfg) => ({
  name: 'focal',
  mixup: false,
  alpha: cfg.alpha,
  compute: () => {
    throw new Error('not trained here');
  },
});
const withFocal = (exp: PartsApi) =>
  exp.registerClassificationLoss('focal', {
    schema: exp.z.strictObject({ gamma: exp.z.number().min(0).default(2) }),
    create: focal,
  });

test('configs without plug-ins keep the hashes they had before parts declared their sections', () => {
  // Computed with the code before this change (every experiments/*.yaml); sweeps' trial hashes were compared the same way.
  const pinned: Record<string, string> = {
    'ablation-fga.yaml': '00aeee1c976c7b1c',
    'ablation-specnet.yaml': 'eeb058299596e38f',
    'ae.yaml': '2fb1f2baed16a222',
    'fgaspecnet.yaml': '81f5f43389741d1e',
    // Changed on purpose when glow.training: per-id became Glow-Aff's training (a different experiment).
    'glow-aff.yaml': 'a8c5b95ef89589ed',
    'idnn.yaml': '7617eb63a85b1217',
    'mobilenetv2.yaml': 'd180ecee6579d51e',
    'stgram-mfn.yaml': 'c9ec12177e1fc2c0',
    'tastgram.yaml': 'b66fadaed66243ec',
  };
  const files = readdirSync('experiments')
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  assert.deepEqual(files, Object.keys(pinned).sort());
  for (const f of files) assert.equal(experimentHash(loadExperiment(`experiments/${f}`)), pinned[f], f);
  // A catalog with a plug-in that declares sections changes nothing for configs that do not choose it.
  const wider = createCatalog([withFocal]);
  for (const f of files)
    assert.equal(
      experimentHash(loadExperiment(`experiments/${f}`, [], wider)),
      pinned[f],
      `${f} with a plug-in loaded`,
    );
});

test("a plug-in loss brings its own keys into its loss block, checked strictly; the built-ins' blocks do not get them", () => {
  const catalog = createCatalog([withFocal]);
  const c = validateExperiment({ loss: { classification: { name: 'focal', margin: 0.2 } } }, 'x', catalog);
  assert.deepEqual(c.loss.classification, { name: 'focal', margin: 0.2, scale: 30, alpha: 0.5, gamma: 2 });
  checkSystem(c, catalog);
  assert.throws(
    () => validateExperiment({ loss: { classification: { name: 'focal', gamma: -1 } } }, 'x.yaml', catalog),
    /^UserError: x\.yaml: loss\.classification\.gamma: /,
  );
  assert.throws(
    () => validateExperiment({ loss: { classification: { name: 'focal', gama: 1 } } }, 'x.yaml', catalog),
    /x\.yaml: unknown key loss\.classification\.gama/,
  );
  assert.throws(
    () => validateExperiment({ loss: { classification: { name: 'arcface', gamma: 1 } } }, 'x.yaml', catalog),
    /unknown key loss\.classification\.gamma/,
  );
  // Without the plug-in the name is unknown, and the error lists what exists.
  const plain = validateExperiment({ loss: { classification: { name: 'focal' } } }, 'x', defaultCatalog());
  assert.throws(
    () => checkSystem(plain, defaultCatalog()),
    /loss\.classification\.name: unknown classification loss "focal"; registered names: arcface, arcmix, noisy-arcmix$/,
  );
});

test('sections: a branch owns features.<name>, a system its top-level section; filled when chosen, an error when not', () => {
  const catalog = createCatalog([
    (exp) => {
      exp.registerBranch('delta', {
        schema: exp.z.strictObject({ order: exp.z.number().int().min(1).default(1) }),
        create: () => {
          throw new Error('unused');
        },
      });
      exp.registerSystem('mine', {
        ...defaultCatalog().systems.get('ae'),
        schema: exp.z.strictObject({ width: exp.z.number().default(3) }),
      });
    },
  ]);
  const c = validateExperiment({ features: { branches: ['logmel', 'delta'] } }, 'x', catalog) as unknown as {
    features: Record<string, unknown>;
  };
  assert.deepEqual(c.features['delta'], { order: 1 });
  assert.equal('delta' in validateExperiment({}, 'x', catalog).features, false);
  assert.throws(
    () => validateExperiment({ features: { delta: { order: 2 } } }, 'e.yaml', catalog),
    /e\.yaml: features\.delta: only read by feature branch delta \(features\.branches is \["logmel","tgram","tagram","fga-spec"\]\)/,
  );
  assert.throws(
    () => validateExperiment({ features: { branches: ['delta'], delta: { oder: 2 } } }, 'e.yaml', catalog),
    /unknown key features\.delta\.oder/,
  );
  const s = validateExperiment({ system: 'mine' }, 'x', catalog) as unknown as Record<string, unknown>;
  assert.deepEqual(s['mine'], { width: 3 });
  assert.throws(
    () => validateExperiment({ mine: {} }, 'e.yaml', catalog),
    /mine: only read by system mine \(this config's system is classifier\)/,
  );
  // The built-in baselines' sections behave as before (declared beside their systems now), and
  // the entry's ExperimentConfig schema still fills them.
  assert.throws(
    () => validateExperiment({ ae: {} }, 'e.yaml'),
    /ae: only read by system ae \(this config's system is classifier\)/,
  );
  assert.deepEqual((ExperimentConfig.parse({ system: 'idnn' }) as unknown as Record<string, unknown>)['idnn'], {
    context: 5,
    hidden: [64, 32, 16],
  });
});

test('registration errors name the plug-in: a duplicate name (unless forced), a taken section, a schema of another zod', () => {
  assert.throws(
    () => createCatalog().use((exp) => exp.registerLoss('arcface', focal), 'my.mjs'),
    /^UserError: plug-in my\.mjs: classification loss "arcface" is already registered \(built in\); pass \{ force: true \}/,
  );
  const forced = createCatalog().use((exp) => exp.registerLoss('arcface', focal, { force: true }), 'my.mjs');
  assert.equal(forced.classificationLosses.get('arcface'), focal);
  assert.equal(
    defaultCatalog().classificationLosses.get('arcface') === focal,
    false,
    'the shared catalog is untouched',
  );
  assert.throws(
    () =>
      createCatalog().use(
        (exp) =>
          exp.registerSystem('s2', {
            ...defaultCatalog().systems.get('ae'),
            section: 'data',
            schema: exp.z.strictObject({}),
          }),
        'my.mjs',
      ),
    /plug-in my\.mjs: system "s2": its config section data is taken/,
  );
  assert.throws(
    () =>
      createCatalog().use(
        (exp) =>
          exp.registerBranch('b', {
            schema: { shape: {} } as never,
            create: () => {
              throw new Error();
            },
          }),
        'my.mjs',
      ),
    /schema must be a zod object made with the API's zod/,
  );
  assert.throws(
    () =>
      createCatalog().use(
        (exp) =>
          exp.registerHead('bad name', () => {
            throw new Error();
          }),
        'my.mjs',
      ),
    /head "bad name": a name of letters/,
  );
});

test('a plug-in file is recorded by path and sha256; a changed or missing file is refused with one line', async () => {
  const { catalog, refs } = await loadPluginFiles([EXAMPLE]);
  assert.deepEqual(refs, [{ path: EXAMPLE, sha256: sha256(EXAMPLE) }]);
  assert.ok(catalog.classificationLosses.has('focal-cosface'));
  assert.equal(defaultCatalog().classificationLosses.has('focal-cosface'), false);
  assert.deepEqual(
    catalog.list().find((p) => p.name === 'focal-cosface'),
    { family: 'classification loss', name: 'focal-cosface', origin: EXAMPLE, section: 'loss.classification' },
  );

  // The YAML's plugins: (relative to it) and --plugin load the same file once; the config records it.
  const dir = mkdtempSync(join(tmpdir(), 'exp-plugins-'));
  const copy = join(dir, 'focal.mjs');
  copyFileSync(EXAMPLE, copy);
  writeFileSync(
    join(dir, 'e.yaml'),
    'plugins: [./focal.mjs]\nloss: {classification: {name: focal-cosface, gamma: 1}}\n',
  );
  const { config } = await readExperiment(join(dir, 'e.yaml'), { plugins: [copy] });
  assert.deepEqual(config.plugins, [{ path: copy, sha256: sha256(copy) }]);
  assert.equal((config.loss.classification as Record<string, unknown>)['gamma'], 1);
  // The hash covers the content, not the path: the same file elsewhere is the same experiment.
  assert.equal(
    experimentHash({ ...config, plugins: [{ path: '/elsewhere/focal.mjs', sha256: sha256(copy) }] }),
    experimentHash(config),
  );
  assert.notEqual(
    experimentHash({ ...config, plugins: [{ path: copy, sha256: '0'.repeat(64) }] }),
    experimentHash(config),
  );

  await catalogFor(config, 'r1');
  writeFileSync(copy, `${readFileSync(copy, 'utf8')}\n// edited\n`);
  await assert.rejects(
    catalogFor({ plugins: [{ path: copy, sha256: config.plugins![0]!.sha256 }] }, 'r2'),
    (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `^plug-in ${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its content differs from what run r2 was made with \\(sha256 [0-9a-f]{12} here, [0-9a-f]{12} recorded\\); restore that version, or start a new run$`,
        ),
      );
      return true;
    },
  );
  await assert.rejects(
    catalogFor({ plugins: [{ path: join(dir, 'gone.mjs'), sha256: '0'.repeat(64) }] }, 'r3'),
    /plug-in .*gone\.mjs: file not found on .* \(run r3 was made with it/,
  );
  writeFileSync(join(dir, 'nofn.mjs'), 'export const x = 1;\n');
  await assert.rejects(
    loadPluginFiles([join(dir, 'nofn.mjs')]),
    /nofn\.mjs: expected a default export \(or an export named register\) that is a function/,
  );
  writeFileSync(join(dir, 'bad.yaml'), 'plugins: ./focal.mjs\n');
  await assert.rejects(
    readExperiment(join(dir, 'bad.yaml')),
    /bad\.yaml: plugins: expected a list of plug-in file paths/,
  );
});
