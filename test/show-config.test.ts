import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExperiment, validateExperiment } from '../src/parts/experiment.js';
import { openDatabase } from '../src/store/index.js';
import { createRun } from './fixtures/sqlite-writes.js';
import { flatten } from '../src/report/flatten.js';

// `exp show` lists the config keys a run's system reads, as that system declares them in the
// registry: a baseline's run does not list the FGASpecNet family's branches, losses or model.
const CLI = join(process.cwd(), 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'exp-show-'));
const db = join(dir, 'exp.db');

/** Stores a run of `config` (no training needed: show reads the stored config) and returns the dotted keys `exp show` lists. */
function shownKeys(config: ReturnType<typeof loadExperiment>, name: string): { keys: string[]; stdout: string } {
  const d = openDatabase(db);
  const run = createRun(d, { name, config, status: 'done', dbFile: db });
  d.close();
  const r = spawnSync(process.execPath, [CLI, 'show', run.id, '--db', db], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const block = r.stdout.split('\nconfig:\n')[1]!.split('\n\n')[0]!;
  const keys = block.split('\n').flatMap((l) => l.match(/^ {2}([\w.]+): /)?.slice(1) ?? []);
  return { keys, stdout: r.stdout };
}

const classifierOnly = (k: string) =>
  k === 'features.branches' || k.startsWith('features.fga.') || /^(loss|model)\./.test(k) || k === 'eval.marginAtTest';

for (const [file, section] of [
  ['ae', 'ae'],
  ['idnn', 'idnn'],
  ['mobilenetv2', 'mobilenetv2'],
  ['glow-aff', 'glow'],
] as const) {
  test(`exp show of a ${file} run lists its own keys and none of the classifier family's`, () => {
    const config = loadExperiment(`experiments/${file}.yaml`);
    const { keys, stdout } = shownKeys(config, file);
    assert.deepEqual(keys.filter(classifierOnly), []);
    // Everything else it has is listed: its own section, the log-Mel front end, the shared keys.
    const expected = Object.keys(flatten(config)).filter((k) => !classifierOnly(k));
    assert.deepEqual(keys, expected);
    for (const k of [`${section}.`, 'features.logmel.nMels', 'train.epochs', 'data.seconds', 'eval.maxFpr', 'system'])
      assert.ok(
        keys.some((x) => x.startsWith(k)),
        `${k} is listed`,
      );
    const hidden = Object.keys(flatten(config)).length - keys.length;
    assert.match(stdout, new RegExp(`\\(${hidden} keys that system ${config.system} does not read are not listed`));
  });
}

test('exp show of a classifier run still lists every key; a run of a system not registered here lists every key too', () => {
  const fga = loadExperiment('experiments/fgaspecnet.yaml');
  const shown = shownKeys(fga, 'fga');
  assert.deepEqual(shown.keys, Object.keys(flatten(fga)));
  assert.ok(
    shown.keys.includes('features.branches') &&
      shown.keys.includes('loss.metric.gamma') &&
      shown.keys.includes('model.backbone'),
  );
  assert.doesNotMatch(shown.stdout, /does not read/);
  // A plug-in's run shown without the plug-in loaded: the registry cannot say, so nothing is hidden.
  const plugin = validateExperiment({ name: 'mine', system: 'my-plugin-system' }, 'test');
  const p = shownKeys(plugin, 'mine');
  assert.deepEqual(p.keys, Object.keys(flatten(plugin)));
});
