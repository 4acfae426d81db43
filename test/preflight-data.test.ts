import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateExperiment } from '../src/config/load.js';
import { preflight } from '../src/preflight/preflight.js';
import { resolveData } from '../src/data/resolve.js';
import { readSynthManifest } from '../src/data/synth/manifest.js';

// The built-in set lives under runs/synth of the working directory: a fresh one per test file.
const dir = mkdtempSync(join(tmpdir(), 'exp-preflight-data-'));
process.chdir(dir);
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A generated-data config at clips short enough to synthesize the whole set in seconds. */
const config = (synthVersion: number) =>
  validateExperiment(
    {
      data: { synthVersion, seconds: 0.25, maxClipsPerId: 4, maxTestClipsPerId: 4 },
      features: { logmel: { nFft: 512, hop: 256 } },
    },
    'test',
  );

for (const version of [1, 2, 3]) {
  test(`preflight checks the synthetic set of data.synthVersion ${version}, the one training reads`, async () => {
    const c = config(version);
    const report = await preflight(c);
    // The generator version is read back from the set on disk, not from the config.
    assert.equal(readSynthManifest(join(report.root, 'synth.json')).generator, version);
    assert.equal(report.root, resolveData(c));
  });
}
