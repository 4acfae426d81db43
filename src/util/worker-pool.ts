import { parentPort, Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Worker threads that take jobs one at a time until none are left, for work split into
 * independent pieces (the synthetic set's clips, a sweep's log-Mel warm-up). Each worker
 * (serveJobs) says `ready` once started and answers every job with one message; it gets its next
 * job after each, and `null` when none are left, on which it closes its port and its thread ends by
 * itself. worker.terminate() on a worker that has just finished is left to the error paths: it
 * stops the isolate wherever it is, and Node 20 has aborted in NodePlatform::ForIsolate when a
 * background compile task of the worker's isolate was still in flight (seen once in `exp data
 * synth`; cf. nodejs/node#56312 and #30850, races of terminate with the platform's tasks).
 */

/** What a pool's workers send: `ready` once, then one reply per job. */
export type PoolMessage = { kind: 'ready' } | { kind: string };

export interface PoolSpec<Job, Reply extends PoolMessage> {
  /** Worker threads started. */
  size: number;
  start: () => Worker;
  /** The next job, or undefined when none are left (or the caller wants no more handed out). */
  take: () => Job | undefined;
  /** A reply to a job. Throwing rejects the pool (e.g. the worker reported a failure). */
  receive: (reply: Exclude<Reply, { kind: 'ready' }>) => void;
  /** The error for a worker that exited while it held a job, or with a non-zero code. */
  lost: (code: number) => Error;
}

/** Runs the pool until every worker has found no job left and exited; on an error the others are terminated. */
export async function runWorkerPool<Job, Reply extends PoolMessage>(spec: PoolSpec<Job, Reply>): Promise<void> {
  const pool: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      if (spec.size <= 0) return resolve();
      for (let w = 0; w < spec.size; w++) {
        const worker = spec.start();
        pool.push(worker);
        let busy = false;
        const give = () => {
          const job = spec.take();
          busy = job !== undefined;
          worker.postMessage(busy ? job : null);
        };
        worker.on('message', (m: Reply) => {
          try {
            if (m.kind !== 'ready') spec.receive(m as Exclude<Reply, { kind: 'ready' }>);
          } catch (e) {
            return reject(e);
          }
          give();
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (busy || code !== 0) return reject(spec.lost(code));
          if (++finished === spec.size) resolve();
        });
      }
    });
  } finally {
    // A no-op for the workers that have exited (all of them, unless the pool failed).
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/**
 * The worker side of runWorkerPool: says `ready`, answers each job with `handle(job)`'s reply, and
 * closes its port when the pool sends `null` (no job left), so that the thread ends by itself.
 */
export function serveJobs<Job, Reply>(handle: (job: Job) => Reply): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs runs in a worker thread');
  port.on('message', (job: Job | null) => {
    if (job === null) return port.close();
    port.postMessage(handle(job));
  });
  port.postMessage({ kind: 'ready' });
}

/**
 * A worker running `<name>.js` beside the module at `here` (its import.meta.url); under tsx (the
 * tests) `<name>.ts`, loaded through tsx's loader registered in the worker first: a worker does not
 * take `--import tsx` from its execArgv on Node 20.
 */
export function startModuleWorker(here: string, name: string, options: WorkerOptions = {}): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), options);
  const entry = JSON.stringify(new URL(`./${name}.ts`, here).href);
  // Resolved from here: the worker's own resolution starts in the working directory.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const boot = `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`;
  return new Worker(boot, { ...options, eval: true });
}
