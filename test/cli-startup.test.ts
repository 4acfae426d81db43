import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI } from './fixtures/sweep-env.js';
import { reportStore } from './fixtures/report-store.js';
import { defaultCatalog } from '../src/parts/builtin.js';
import { BUILTIN_CONFIG_KEYS } from '../src/systems/config-keys.js';

/**
 * The commands that only read the store or print help start without the heavy modules (tfjs and
 * its backends, ink / react, pg, webgpu, vega, resvg): the commands that compute import them when
 * they run (src/cli/lazy.ts). Each command runs with a --import hook that records every module
 * the process loads: ES modules through a resolve hook, CommonJS ones (tfjs's own packages, pg)
 * from require.cache at exit. No timings: what is loaded, not how long it took.
 */

const fixture = reportStore();
const dir = mkdtempSync(join(tmpdir(), 'exp-startup-'));
const hooks = join(dir, 'hooks.mjs');
const probe = join(dir, 'probe.mjs');
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.EXP_STARTUP_LOG) appendFileSync(process.env.EXP_STARTUP_LOG, r.url + '\\n');
  return r;
}
`,
);
writeFileSync(
  probe,
  `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(process.env.EXP_STARTUP_LOG, Object.keys(cache).join('\\n') + '\\n'));
`,
);

const HEAVY =
  /[\\/]node_modules[\\/](@tensorflow[\\/][^\\/]+|ink|react|react-reconciler|yoga-layout|pg|webgpu|vega|vega-lite|@resvg[\\/][^\\/]+)[\\/]/;

let runs = 0;
/** Runs exp with the probe; the heavy packages it loaded, by name, and every package. */
function heavyLoaded(...args: string[]): {
  status: number | null;
  stderr: string;
  heavy: string[];
  packages: string[];
} {
  const log = join(dir, `modules-${runs++}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(probe).href, CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, EXP_STARTUP_LOG: log },
  });
  const loaded = readFileSync(log, 'utf8').split('\n');
  const names = (pattern: RegExp): string[] =>
    [...new Set(loaded.map((m) => pattern.exec(m)?.[1]).filter((m) => m !== undefined))].sort();
  return {
    status: r.status,
    stderr: r.stderr,
    heavy: names(HEAVY),
    packages: names(/[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/),
  };
}

const ids = (): string[] => {
  const r = spawnSync(process.execPath, [CLI, 'runs', '--json', '--db', fixture.db], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as Array<{ id: string }>).map((run) => run.id);
};

test('the probe sees tfjs where a command loads it (exp parts lists the parts, which import it)', () => {
  const r = heavyLoaded('parts');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.heavy.includes('@tensorflow/tfjs'), `loaded: ${r.heavy.join(', ')}`);
});

test('help, runs, show, compare, export, metrics, db and data load none of tfjs, ink, react, pg, webgpu, vega, resvg', () => {
  const [a, b] = ids();
  const commands: string[][] = [
    ['--help'],
    ['help'],
    ['runs', '--help'],
    ['show', '--help'],
    ['report', '--help'],
    ['runs', '--db', fixture.db],
    ['runs', '--json', '--db', fixture.db],
    ['show', a!, '--db', fixture.db],
    ['show', a!, '--json', '--db', fixture.db],
    ['show', a!, '--scores', '--db', fixture.db],
    ['compare', a!, b!, '--db', fixture.db],
    ['compare', fixture.sweep, '--db', fixture.db],
    ['export', fixture.sweep, '--format', 'csv', '--db', fixture.db],
    ['db', 'migrate', '--db', fixture.db],
    ['metrics', '--run', a!, '--db', fixture.db],
    ['data', 'check', fixture.root],
    ['data', 'synth', '--help'],
  ];
  for (const args of commands) {
    const r = heavyLoaded(...args);
    assert.equal(r.status, 0, `exp ${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(r.heavy, [], `exp ${args.join(' ')} loaded ${r.heavy.join(', ')}`);
  }
});

test('exp --help loads no package but commander (the commands import theirs when they run)', () => {
  const r = heavyLoaded('--help');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.packages, ['commander']);
});

test("exp show's config keys of the built-in systems, read without the catalog, are the ones the catalog's systems declare", () => {
  const systems = defaultCatalog().systems;
  assert.deepEqual(Object.keys(BUILTIN_CONFIG_KEYS).sort(), systems.names().sort());
  for (const name of systems.names())
    assert.deepEqual(systems.get(name).configKeys, BUILTIN_CONFIG_KEYS[name as keyof typeof BUILTIN_CONFIG_KEYS], name);
});
