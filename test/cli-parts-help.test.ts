import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultCatalog } from '../src/parts/builtin.js';
import { pluginArgs } from '../src/cli/parts-help.js';

// `--help` of every command that builds a model or a loss lists the names the YAML can use, per
// family, from the catalog: every built-in part, and a plug-in's parts when --plugin names it.
const CLI = join(process.cwd(), 'dist/cli/main.js');
const exp = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const focal = resolve('examples/focal-loss.mjs');

/** The help's parts section: family -> the names listed for it. */
function listed(help: string): Map<string, string[]> {
  const section = help.split('Parts the experiment YAML can name')[1];
  assert.ok(section, `no parts section in:\n${help}`);
  const out = new Map<string, string[]>();
  let family = '';
  for (const line of section.split('\n').slice(2)) {
    if (!line.trim()) continue;
    const m = /^ {2}(\S.*?)\s{2,}(.*)$/.exec(line);
    if (m) family = m[1]!;
    const names = (m ? m[2]! : line.trim()).split(/,\s*/).filter(Boolean);
    out.set(family, [...(out.get(family) ?? []), ...names]);
  }
  return out;
}

function expected(plugins: Record<string, string> = {}): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of defaultCatalog().list()) out.set(p.family, [...(out.get(p.family) ?? []), p.name]);
  for (const [family, name] of Object.entries(plugins))
    out.set(
      family,
      [...(out.get(family) ?? []), name].sort((a, b) => a.localeCompare(b)),
    );
  return out;
}

for (const command of ['run', 'sweep', 'params', 'bench', 'worker']) {
  test(`exp ${command} --help lists every registered part by family`, () => {
    const r = exp([command, '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(listed(r.stdout), expected());
  });
}

test('exp run --help --plugin FILE lists the plug-in parts with their file; without it they are absent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exp-help-'));
  const branch = join(dir, 'delta.mjs');
  // A second plug-in, a branch, to see a family other than the losses gain a name.
  writeFileSync(
    branch,
    `export default function (exp) {
  exp.registerBranch('delta', (args) => new (class extends exp.BaseModule {
    apply(inputs) { return inputs.logmel; }
  })(args.name, args.seed));
}
`,
  );
  for (const args of [
    ['run', '--help', '--plugin', focal, '--plugin', branch],
    ['sweep', `--plugin=${focal}`, '-h', `--plugin=${branch}`],
  ]) {
    const r = exp(args);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      listed(r.stdout),
      expected({ 'classification loss': 'focal-cosface (focal-loss.mjs)', 'feature branch': 'delta (delta.mjs)' }),
      args.join(' '),
    );
  }
  assert.ok(!exp(['run', '--help']).stdout.includes('focal-cosface'));
});

test('a --plugin that cannot load is one line and exit 1 under --help too', () => {
  const r = exp(['params', '--help', '--plugin', 'examples/no-such-plugin.mjs']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^exp: plug-in \S+no-such-plugin\.mjs: file not found\n$/);
});

test('an unknown name lists the plug-in parts beside the built-in ones', () => {
  const r = exp([
    'params',
    'experiments/fgaspecnet.yaml',
    '--plugin',
    focal,
    '--set',
    'loss.classification.name=focal',
  ]);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    'exp: loss.classification.name: unknown classification loss "focal"; registered names: arcface, arcmix, focal-cosface, noisy-arcmix\n',
  );
});

test('pluginArgs reads both spellings and stops at --', () => {
  assert.deepEqual(pluginArgs(['run', '--plugin', 'a.mjs', '--plugin=b.mjs', '--', '--plugin', 'c.mjs']), [
    'a.mjs',
    'b.mjs',
  ]);
  assert.deepEqual(pluginArgs(['run', '--plugin']), []);
});
