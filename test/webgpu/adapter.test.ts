import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// How exp picks a WebGPU adapter, on the one adapter CI has (lavapipe, a software one). Each case
// runs in its own process: the choice is made once per process.
const PROBE = join(process.cwd(), 'test/webgpu/adapter-probe.ts');
const CLI = join(process.cwd(), 'dist/cli/main.js');
const SHADERS = process.env['MESA_SHADER_CACHE_DIR'] ?? join(process.cwd(), 'runs', 'cache', 'shaders');

function probe(mode: string, env: Record<string, string | undefined> = {}) {
  const merged: NodeJS.ProcessEnv = { ...process.env, EXP_SHADER_CACHE: SHADERS, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  const r = spawnSync(process.execPath, ['--import', 'tsx', PROBE, mode], { encoding: 'utf8', env: merged });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

test('auto never takes a software adapter: with only lavapipe, the hardware request is refused by name', () => {
  const outcome = probe('hardware') as { ok: boolean; reason?: string };
  assert.equal(outcome.ok, false, 'lavapipe must not count as a GPU');
  assert.match(outcome.reason ?? '', /only adapter is a software one \(.*llvmpipe/);
});

test('EXP_WEBGPU_ADAPTER picks the adapter by name; --gpu-adapter with a name that matches none: exit 1, one line listing the adapters', () => {
  const picked = probe('webgpu', { EXP_WEBGPU_ADAPTER: 'llvmpipe' }) as {
    gpu: { description: string; software: boolean };
    sum: number;
  };
  assert.match(picked.gpu.description, /llvmpipe/);
  assert.equal(picked.gpu.software, true);
  assert.equal(picked.sum, 9900);
  const r = spawnSync(
    process.execPath,
    [CLI, 'bench', '--backend', 'webgpu', '--gpu-adapter', 'no-such-gpu', '--batch', '2', '--steps', '1'],
    { encoding: 'utf8', env: { ...process.env, EXP_SHADER_CACHE: SHADERS } },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /"no-such-gpu" matches no adapter/);
  assert.match(r.stderr, /llvmpipe/, 'the adapters Dawn found are listed');
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('the shader cache: EXP_SHADER_CACHE is where the driver keeps compiled shaders across processes', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'exp-shaders-')), 'cache');
  // Every file under the directory with its size.
  const files = (d: string): Array<[string, number]> =>
    readdirSync(d)
      .sort()
      .flatMap((n) => {
        const st = statSync(join(d, n));
        return st.isDirectory() ? files(join(d, n)) : [[join(d, n), st.size] as [string, number]];
      });
  // Set but empty counts as unset (a shell's `MESA_SHADER_CACHE_DIR= cmd`): exp's directory is used.
  probe('webgpu', { EXP_SHADER_CACHE: dir, MESA_SHADER_CACHE_DIR: '' });
  const first = files(dir);
  assert.ok(first.length > 0, `the driver wrote its shader cache under ${dir}`);
  // A second process finds the same shaders compiled: it writes nothing for the same computation.
  probe('webgpu', { EXP_SHADER_CACHE: dir, MESA_SHADER_CACHE_DIR: '' });
  assert.deepEqual(files(dir), first);
});
