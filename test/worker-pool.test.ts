import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { runWorkerPool, startModuleWorker } from '../src/util/worker-pool.js';

/**
 * runWorkerPool with real worker threads (test/fixtures/pool-worker.ts): every job answered once,
 * and the workers end by themselves when no job is left (exit code 0; worker.terminate() gives 1),
 * which keeps clear of Node's races between terminate() and the isolate's background tasks.
 */

type Reply = { kind: 'ready' } | { kind: 'doubled'; n: number; value: number };

function pool(jobs: number[], size: number) {
  const codes: number[] = [];
  const results = new Map<number, number>();
  let next = 0;
  const run = runWorkerPool<number, Reply>({
    size,
    start: () => {
      const w: Worker = startModuleWorker(new URL('./fixtures/pool-worker.ts', import.meta.url).href, 'pool-worker');
      w.on('exit', (c) => codes.push(c));
      return w;
    },
    take: () => jobs[next++],
    receive: (m) => {
      if (m.kind === 'doubled') results.set(m.n, m.value);
    },
    lost: (code) => new Error(`worker exited with code ${code}`),
  });
  return { run, codes, results };
}

test('every job is answered once and the workers exit on their own, with code 0', async () => {
  const jobs = Array.from({ length: 40 }, (_, i) => i);
  const { run, codes, results } = pool(jobs, 3);
  await run;
  assert.deepEqual(
    [...results.keys()].sort((a, b) => a - b),
    jobs,
  );
  for (const n of jobs) assert.equal(results.get(n), 2 * n);
  assert.deepEqual(codes, [0, 0, 0]);
});

test('a worker that dies holding a job rejects the pool with its exit code', async () => {
  const { run } = pool([1, 2, -1, 4, 5], 2);
  await assert.rejects(run, /exited with code 3/);
});
