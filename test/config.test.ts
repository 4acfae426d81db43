import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOverride, canonicalJson, configHash, upgradeStoredConfig, experimentHash } from '../src/config/index.js';
import { loadExperiment, validateExperiment } from '../src/parts/experiment.js';
import { defaultCatalog } from '../src/parts/builtin.js';

const ExperimentConfig = defaultCatalog().schema();
import { UserError } from '../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'exp-config-'));
function yamlFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('defaults are the paper hyper-parameters', () => {
  const c = ExperimentConfig.parse({});
  assert.deepEqual(c.features.branches, ['logmel', 'tgram', 'tagram', 'fga-spec']);
  assert.equal(c.loss.classification?.margin, 0.7);
  assert.equal(c.loss.classification?.scale, 30);
  assert.equal(c.loss.metric?.K, 3);
  assert.equal(c.loss.metric?.weight, 0.15);
  assert.equal(c.train.lr, 1e-4);
  assert.equal(c.train.batchSize, 64);
  assert.equal(c.train.epochs, 300);
});

test('an unknown nested key is an error naming the file and the key', () => {
  const f = yamlFile('bad.yaml', 'model:\n  backbone: mobilefacenet\n  widht: 3\n');
  assert.throws(
    () => loadExperiment(f),
    (e: unknown) => e instanceof UserError && e.message.includes('model.widht') && e.message.includes(f),
  );
});

test('a wrong type names the key', () => {
  const f = yamlFile('type.yaml', 'train:\n  lr: fast\n');
  assert.throws(
    () => loadExperiment(f),
    (e: unknown) => e instanceof UserError && e.message.includes('train.lr'),
  );
});

test('--set overrides parse YAML scalars and lists; null switches a loss off', () => {
  const f = yamlFile('ok.yaml', 'name: x\n');
  const c = loadExperiment(f, [
    parseOverride('train.epochs=3'),
    parseOverride('loss.metric=null'),
    parseOverride('features.branches=[logmel, tgram]'),
  ]);
  assert.equal(c.train.epochs, 3);
  assert.equal(c.loss.metric, null);
  assert.deepEqual(c.features.branches, ['logmel', 'tgram']);
});

test('invalid YAML names the file and line', () => {
  const f = yamlFile('syntax.yaml', 'train:\n  lr: [1,\n');
  assert.throws(
    () => loadExperiment(f),
    (e: unknown) => e instanceof UserError && /syntax\.yaml:\d+:\d+: invalid YAML: /.test(e.message),
  );
});

test('canonical hash ignores key order and number spelling', () => {
  assert.equal(
    canonicalJson({ b: 1e-4, a: [1, { d: 2, c: 3 }] }),
    canonicalJson({ a: [1, { c: 3, d: 2 }], b: 0.0001 }),
  );
  assert.equal(configHash({ x: 1, y: 2 }), configHash({ y: 2, x: 1 }));
  assert.notEqual(configHash({ x: 1 }), configHash({ x: 2 }));
});

test('data.synthVersion: 3 by default, 1 for a run stored before the key existed, with its hash unchanged', () => {
  const fresh = validateExperiment({}, 'test');
  assert.equal(fresh.data.synthVersion, 3);
  const { synthVersion: _v, ...oldData } = fresh.data;
  const stored = { ...fresh, data: oldData } as unknown as ExperimentConfig; // what an older exp wrote
  assert.equal(upgradeStoredConfig(stored).data.synthVersion, 1);
  assert.equal(experimentHash(stored), configHash(stored), 'an old run keeps the hash it was stored with');
  const v1 = validateExperiment({ data: { synthVersion: 1 } }, 'test');
  assert.equal(experimentHash(v1), configHash(stored), 'asking for version 1 today is the same run as an old one');
  assert.notEqual(experimentHash(fresh), experimentHash(v1), 'the generator version is part of a run identity');
  const real = validateExperiment({ data: { root: '/data/dcase' } }, 'test');
  const { synthVersion: _r, ...realOld } = real.data;
  assert.equal(
    experimentHash(real),
    configHash({ ...real, data: realOld }),
    'no generator runs on a real root: its hash is as before',
  );
  assert.throws(
    () => validateExperiment({ data: { synthVersion: 4 } }, 'exp.yaml'),
    (e: unknown) => e instanceof UserError && /data\.synthVersion/.test(e.message) && /1, 2 or 3/.test(e.message),
  );
});
