import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { ExperimentConfig } from '../src/config/index.js';
import { loadExperiment, validateExperiment } from '../src/parts/experiment.js';
import { buildContainer, buildLosses, buildModel } from '../src/parts/container.js';
import { registerBranch } from '../src/registry/plugins.js';
import { Registry } from '../src/registry/registry.js';
import { BranchRegistry } from '../src/registry/tokens.js';
import { LogMelBranch } from '../src/model/branches/logmel.js';
import type { BranchArgs } from '../src/model/types.js';
import { UserError } from '../src/util/errors.js';

await tf.setBackend('cpu');

const small = (extra: Record<string, unknown> = {}): ExperimentConfig =>
  validateExperiment({ data: { seconds: 0.5 }, features: { logmel: { nMels: 32 } }, ...extra }, 'test');

test('registry swap: renaming one branch builds a different model', () => {
  const a = buildModel(
    small({ features: { logmel: { nMels: 32 }, branches: ['logmel', 'tgram', 'tagram', 'fga-spec'] } }),
    5,
  );
  const b = buildModel(
    small({ features: { logmel: { nMels: 32 }, branches: ['logmel', 'tgram', 'tagram', 'specnet'] } }),
    5,
  );
  assert.deepEqual(
    a.branches.map((m) => m.name),
    ['logmel', 'tgram', 'tagram', 'fga-spec'],
  );
  assert.deepEqual(
    b.branches.map((m) => m.name),
    ['logmel', 'tgram', 'tagram', 'specnet'],
  );
  assert.ok([...a.trainable().keys()].some((k) => k.startsWith('fga-spec/gate/')));
  assert.ok(![...b.trainable().keys()].some((k) => k.includes('gate')));
  // The gate (Linear 2M -> M with bias, Conv1D k 3 with bias) is the whole difference.
  assert.equal(a.totalParams() - b.totalParams(), 2 * 32 * 32 + 32 + 3 + 1);
  a.dispose();
  b.dispose();
});

test('unknown names are user errors naming the key and listing the registered names', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      { features: { branches: ['logmel', 'tgarm'] } },
      /features\.branches\[1\]: unknown feature branch "tgarm"; registered names: fga-spec, logmel, specnet, tagram, tgram/,
    ],
    [{ model: { backbone: 'resnet' } }, /model\.backbone: unknown backbone "resnet"; registered names: mobilefacenet/],
    [{ model: { head: 'cosface' } }, /model\.head: unknown head "cosface"; registered names: arcface/],
    [{ model: { fusion: 'sum' } }, /model\.fusion: unknown fusion "sum"; registered names: concat/],
  ];
  for (const [cfg, re] of cases) {
    assert.throws(
      () => buildModel(small(cfg), 5),
      (e: unknown) => e instanceof UserError && re.test(e.message),
      JSON.stringify(cfg),
    );
  }
  assert.throws(
    () => buildLosses(small({ loss: { classification: { name: 'cosface' } } }), 5),
    (e: unknown) =>
      e instanceof UserError && /loss\.classification\.name.*arcface, arcmix, noisy-arcmix/.test(e.message),
  );
  assert.throws(
    () => buildLosses(small({ loss: { metric: { name: 'triplet' } } }), 5),
    (e: unknown) => e instanceof UserError && /loss\.metric\.name.*softtriple/.test(e.message),
  );
});

test('the configured losses come from the loss registries', () => {
  const full = buildLosses(loadExperiment('experiments/fgaspecnet.yaml'), 41);
  assert.equal(full.classification?.name, 'noisy-arcmix');
  assert.equal(full.metric?.name, 'softtriple');
  assert.equal(full.metric?.weight, 0.15);
  for (const v of full.metric!.trainable().values()) v.dispose();
  const st = buildLosses(loadExperiment('experiments/stgram-mfn.yaml'), 41);
  assert.equal(st.classification?.name, 'arcface');
  assert.equal(st.classification?.mixup, false);
  assert.equal(st.metric, null);
});

test('a plug-in branch: registered per container, receives only its slice, duplicates need force', () => {
  let seen: BranchArgs | undefined;
  const plugin = registerBranch('mine', (args) => ((seen = args), new LogMelBranch(args.name, args.seed)));
  const cfg = small({ features: { logmel: { nMels: 32 }, branches: ['logmel', 'mine'] } });
  const model = buildModel(cfg, 5, [plugin]);
  assert.deepEqual(
    model.branches.map((b) => b.name),
    ['logmel', 'mine'],
  );
  assert.deepEqual(Object.keys(seen!).sort(), ['clip', 'features', 'name', 'seed']);
  assert.deepEqual(Object.keys(seen!.features), ['fga']);
  assert.deepEqual(seen!.clip, { sampleRate: 16000, samples: 8000, hop: 512, nMels: 32, frames: 16 });
  model.dispose();
  // Another run's container does not see it.
  assert.throws(() => buildModel(cfg, 5), /unknown feature branch "mine"/);
  const registry = buildContainer(cfg, { numClasses: 5, extraModules: [plugin] }).get<Registry<unknown>>(
    BranchRegistry,
  );
  assert.ok(registry.has('mine') && registry.has('tgram'));
  // Replacing a built-in by accident is an error; on purpose it works.
  assert.throws(
    () =>
      buildContainer(cfg, {
        numClasses: 5,
        extraModules: [
          registerBranch('tgram', () => {
            throw new Error('x');
          }),
        ],
      }).get(BranchRegistry),
    /already registered/,
  );
  const forced = buildContainer(cfg, {
    numClasses: 5,
    extraModules: [registerBranch('tgram', (a) => new LogMelBranch(a.name, a.seed), { force: true })],
  });
  assert.ok(forced.get<Registry<unknown>>(BranchRegistry).has('tgram'));
});

test('a branch listed twice gets distinct module and weight names', () => {
  const model = buildModel(small({ features: { logmel: { nMels: 32 }, branches: ['tgram', 'tgram'] } }), 5);
  assert.deepEqual(
    model.branches.map((b) => b.name),
    ['tgram', 'tgram#1'],
  );
  assert.ok(model.trainable().has('tgram#1/conv0/w'));
  model.dispose();
});

test('docs/registry.md shows the user-script example verbatim, and the script runs as documented', () => {
  const script = readFileSync('test/fixtures/registry-user-branch.mjs', 'utf8');
  assert.ok(readFileSync('docs/registry.md', 'utf8').includes(script), 'docs/registry.md is out of date');
  // Needs dist/ (built by `npm test`'s pretest): the script imports the package by its name.
  const out = execFileSync(process.execPath, ['test/fixtures/registry-user-branch.mjs'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const res = JSON.parse(out) as { modules: Record<string, number>; embedding: number[] };
  assert.equal(res.modules['delta'], 128);
  assert.deepEqual(res.embedding, [2, 128]);
});

/** Trainable parameters from the module definitions (the paper's §2 and STgram-MFN's net.py), independent of the code. */
function expectedParams(branches: string[], classes: number, frames = 313, m = 128, d = 128): number {
  const table = [
    [2, 128, 2, 2],
    [4, 128, 2, 2],
    [4, 128, 2, 2],
  ];
  const bnPrelu = (c: number) => 3 * c;
  let n = branches.length * 64 * 9 + bnPrelu(64) + 64 * 9 + bnPrelu(64);
  let inp = 64,
    h = Math.floor((m - 1) / 2) + 1,
    w = Math.floor((frames - 1) / 2) + 1;
  for (const [t, c, reps, s] of table) {
    for (let i = 0; i < reps!; i++) {
      const hid = inp * t!;
      n += inp * hid + bnPrelu(hid) + 9 * hid + bnPrelu(hid) + hid * c! + 2 * c!;
      inp = c!;
    }
    h = Math.floor((h - 1) / s!) + 1;
    w = Math.floor((w - 1) / s!) + 1;
  }
  n += inp * 512 + bnPrelu(512) + 512 * h * w + 2 * 512 + 512 * d + 2 * d;
  if (branches.includes('tgram')) n += 1024 * m + 3 * (2 * frames + 3 * m * m);
  if (branches.includes('fga-spec')) n += 2 * 2 * m * frames + 4 + 2 * m * m + m + 3 + 1;
  return n + classes * d;
}

test('exp params --json: per-module counts and total, as the module definitions give', () => {
  for (const [file, branches, paper] of [
    ['experiments/stgram-mfn.yaml', ['logmel', 'tgram'], 1.1e6],
    ['experiments/tastgram.yaml', ['logmel', 'tgram', 'tagram'], 1.2e6],
    ['experiments/fgaspecnet.yaml', ['logmel', 'tgram', 'tagram', 'fga-spec'], 1.3e6],
  ] as const) {
    const out = execFileSync(process.execPath, ['dist/cli/main.js', 'params', file, '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const r = JSON.parse(out) as { total: number; modules: Record<string, number>; paper: { params: number } };
    assert.equal(r.total, expectedParams([...branches], 41), file);
    assert.equal(
      r.total,
      Object.values(r.modules).reduce((a, b) => a + b, 0),
    );
    assert.ok(Math.abs(r.total / paper - 1) < 0.1, `${file}: ${r.total} vs Table 5 ${paper}`);
    assert.equal(r.paper.params, paper);
  }
  const bad = spawnSync(
    process.execPath,
    ['dist/cli/main.js', 'params', 'experiments/tastgram.yaml', '--set', 'features.branches=[logmel,nope]'],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /features\.branches\[1\]: unknown feature branch "nope"/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});
