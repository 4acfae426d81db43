import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The pthread worker script of tfjs-backend-wasm's threaded build is a file in the temporary
// directory, shared by every exp process of the machine. Two installs (two checkouts) must not
// share or overwrite one file: a worker that read it while another process rewrote it ran an empty
// script, exited silently, and the start waited for it until its limit (300 s).
const threads = fileURLToPath(new URL('../src/backend/wasm-threads.ts', import.meta.url));
const starter = fileURLToPath(new URL('./fixtures/wasm-start.ts', import.meta.url));
const realPackage = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));

/** A second install of the package's files the worker script needs, at a path as long as the real one. */
function otherInstall(): string {
  const base = mkdtempSync(join(tmpdir(), 'exp-install-'));
  const pad = realPackage.length - base.length - 1;
  const dir = join(base, 'p'.repeat(Math.max(1, pad)));
  mkdirSync(join(dir, 'wasm-out'), { recursive: true });
  copyFileSync(join(realPackage, 'package.json'), join(dir, 'package.json'));
  for (const f of ['tfjs-backend-wasm-threaded-simd.worker.js', 'tfjs-backend-wasm-threaded-simd.js'])
    copyFileSync(join(realPackage, 'wasm-out', f), join(dir, 'wasm-out', f));
  return dir;
}

const tsx = (script: string, env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 180_000,
  });

test('two installs, even at paths of equal length, get two worker script files, each naming its own factory', () => {
  const other = otherInstall();
  const tmp = mkdtempSync(join(tmpdir(), 'exp-worker-tmp-'));
  const r = tsx(
    `import { workerScriptPath } from ${JSON.stringify(threads)};
console.log(JSON.stringify([workerScriptPath(), workerScriptPath(${JSON.stringify(other)})]));`,
    { TMPDIR: tmp },
  );
  assert.equal(r.status, 0, r.stderr);
  const [mine, theirs] = JSON.parse(r.stdout) as [string, string];
  assert.notEqual(mine, theirs);
  assert.ok(readFileSync(mine, 'utf8').includes(join(realPackage, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js')));
  assert.ok(readFileSync(theirs, 'utf8').includes(join(other, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js')));
});

test('threaded wasm starts while processes of two installs keep writing their worker scripts', async () => {
  const other = otherInstall();
  const tmp = mkdtempSync(join(tmpdir(), 'exp-worker-tmp-'));
  // Each writer asks for its install's worker script every millisecond for 20 s, as processes of
  // two checkouts starting side by side do (before the fix they rewrote one file back and forth).
  const writer = (dir: string | null) =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { workerScriptPath } from ${JSON.stringify(threads)};
const end = Date.now() + 20_000;
const pause = new Int32Array(new SharedArrayBuffer(4));
while (Date.now() < end) { workerScriptPath(${dir === null ? '' : JSON.stringify(dir)}); Atomics.wait(pause, 0, 0, 1); }`,
      ],
      { env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' },
    );
  const writers = [writer(null), writer(other)];
  const exited = writers.map((w) => new Promise((r) => w.once('exit', r)));
  try {
    await new Promise((r) => setTimeout(r, 2000));
    for (let i = 0; i < 2; i++) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', starter], {
        encoding: 'utf8',
        env: { ...process.env, TMPDIR: tmp, EXP_TEST_THREADS: '2' },
        timeout: 180_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'wasm 2', `start ${i + 1}`);
    }
  } finally {
    for (const w of writers) w.kill('SIGKILL');
    await Promise.all(exited);
  }
});
