import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

// WebGPU in Node has no synchronous read of a tensor (dataSync() fails there), so everything exp
// ships reads tensors with `await data()` on every backend, one code path (docs/backend.md,
// "Asynchronous reads"). A synchronous read added to src/ would work on wasm and break every
// command on a GPU, so it is refused here. Dev-only scripts under bench/ and tools/ that run on
// wasm alone are not part of this rule.

const SYNC_READ = /\.(dataSync|arraySync|bufferSync)\s*\(/;

/** Lines of TypeScript code with a synchronous tensor read (comments left out). */
function syncReads(text: string): number[] {
  const out: number[] = [];
  let inBlock = false;
  text.split('\n').forEach((raw, i) => {
    let line = raw;
    if (inBlock) {
      const end = line.indexOf('*/');
      if (end < 0) return;
      line = line.slice(end + 2);
      inBlock = false;
    }
    line = line.replace(/\/\*.*?\*\//g, '');
    const open = line.indexOf('/*');
    if (open >= 0) {
      inBlock = true;
      line = line.slice(0, open);
    }
    line = line.replace(/\/\/.*$/, '');
    if (SYNC_READ.test(line)) out.push(i + 1);
  });
  return out;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('the scan finds a synchronous read in code and not in comments', () => {
  assert.deepEqual(syncReads('const a = t.dataSync();\nconst b = await t.data();'), [1]);
  assert.deepEqual(syncReads('x\n  const rows = lp.arraySync() as number[][];'), [2]);
  assert.deepEqual(syncReads('// never t.dataSync() here\n/* nor\n t.bufferSync() */ const c = 1;'), []);
});

test('nothing under src/ reads a tensor synchronously (dataSync, arraySync, bufferSync)', () => {
  const found = files('src').flatMap((f) =>
    syncReads(readFileSync(f, 'utf8')).map((line) => `${relative(process.cwd(), f)}:${line}`),
  );
  assert.ok(files('src').length > 50, 'the scan sees the source tree');
  assert.deepEqual(found, [], `synchronous reads fail on WebGPU; use await t.data(): ${found.join(', ')}`);
});
