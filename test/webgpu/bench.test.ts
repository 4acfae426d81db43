import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// `npm run bench:gpu` (bench/gpu.ts) end to end on lavapipe, at test size (1 s clips, batch 2, one
// step): it runs `exp bench --backend webgpu --json` and prints its table row with the GPU memory
// tfjs held. The numbers mean nothing on a software device; that the script runs and reports
// them is what is tested.
const dir = mkdtempSync(join(tmpdir(), 'exp-bench-gpu-'));
const SHADERS = process.env['MESA_SHADER_CACHE_DIR'] ?? join(process.cwd(), 'runs', 'cache', 'shaders');

test('bench:gpu runs exp bench on the WebGPU device and reports clips/s and peak GPU memory', () => {
  const yaml = join(dir, 'tiny.yaml');
  writeFileSync(yaml, 'name: tiny\ndata: {seconds: 1}\n');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/gpu.ts', '--batches', '2', '--steps', '1', '--experiment', yaml],
    { encoding: 'utf8', env: { ...process.env, EXP_SHADER_CACHE: SHADERS } },
  );
  assert.equal(r.status, 0, r.stderr);
  const row = r.stdout.split('\n').find((l) => l.startsWith('| exp webgpu | 2 |'));
  assert.ok(row, `a row for batch 2 in:\n${r.stdout}\n${r.stderr}`);
  const [, , , train, infer, memory, note] = row.split('|').map((c) => c.trim());
  assert.ok(Number(train) > 0 && Number(infer) > 0, row);
  assert.match(memory!, /^[1-9]\d* MiB$/, `peak GPU memory reported: ${row}`);
  assert.match(note!, /micro-batch 2, llvmpipe/);
});
