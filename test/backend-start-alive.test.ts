import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { settleWithin } from '../src/backend/wasm-threads.js';

const wasmThreads = fileURLToPath(new URL('../src/backend/wasm-threads.ts', import.meta.url));

/**
 * A child process whose only work is a promise settled by an unref'd timer: the shape of
 * tfjs-backend-wasm's start-up once emscripten has unref'd its loaded pthread workers.
 */
function child(body: string): { status: number | null; stdout: string } {
  const script = `import { settleWithin } from ${JSON.stringify(wasmThreads)};
const start = new Promise((resolve) => setTimeout(() => resolve('settled'), 300).unref());
${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout.trim() };
}

test('without a held event loop such a start exits with code 13 before it settles (the failure settleWithin prevents)', () => {
  const r = child('console.log(await start);');
  assert.equal(r.status, 13);
  assert.equal(r.stdout, '');
});

test('settleWithin holds the event loop until the start settles', () => {
  const r = child("console.log(await settleWithin(start, 10_000, 'the start'));");
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'settled');
});

test('a start that never settles fails with an error naming it, and the timer does not outlive the call', async () => {
  await assert.rejects(
    settleWithin(new Promise<never>(() => {}), 50, 'the wasm start'),
    /the wasm start did not finish within 0.05 s/,
  );
  assert.equal(await settleWithin(Promise.resolve(7), 60_000, 'x'), 7);
  // The 60 s timer was cleared: nothing of it is left among the process's active resources.
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, 0);
});

const select = fileURLToPath(new URL('../src/backend/select.ts', import.meta.url));

test('--backend auto whose threaded wasm start never settles fails naming the start, not with a cpu fallback tfjs refuses', () => {
  // The pthread workers of tfjs-backend-wasm's threaded build are replaced by workers that never
  // report 'loaded', so the start stays pending (what a start stuck past its limit leaves inside
  // tfjs). Falling back to cpu then threw "Backend 'cpu' has not yet been initialized".
  const script = `import wt from 'node:worker_threads';
const Original = wt.Worker;
wt.Worker = class extends Original {
  constructor(file, opts) {
    const stuck = String(file).includes('pthread-worker');
    super(stuck ? 'setInterval(() => {}, 1 << 30)' : file, stuck ? { eval: true } : opts);
  }
};
const { initBackend } = await import(${JSON.stringify(select)});
try {
  console.log(JSON.stringify(await initBackend('auto', { threads: 2, wasmStartLimitMs: 2000 })));
} catch (e) {
  console.log('error: ' + e.message);
}
process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'error: tfjs-backend-wasm start-up did not finish within 2 s');
});
