import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Trainer } from '../train/events.js';
import { isUserError, messageOf } from '../util/errors.js';
import type { FromWorker, ToWorker } from './protocol.js';

/**
 * One sweep trial in its own process (forked by the orchestrator): runs the trainer and sends
 * every TrainEvent to the parent, which is the only writer to the store.
 *
 * EXP_TRAINER_MODULE (test/dev hook): a path or URL of a module exporting `train: Trainer`, used
 * instead of the real trainer (src/train/index.ts); the tests use test/fixtures/fake-trainer.mjs.
 */

// Never outlive the orchestrator: if it dies (even kill -9) the IPC channel closes and we leave.
process.on('disconnect', () => process.exit(0));
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(0);
}, 1000).unref();
// Ctrl-C reaches the whole process group; the orchestrator decides, and tells us with 'stop'.
process.on('SIGINT', () => {});

const controller = new AbortController();

function send(msg: FromWorker): Promise<void> {
  return new Promise((done) => {
    if (!process.connected) return done();
    process.send!(msg, undefined, undefined, () => done());
  });
}

async function loadTrainer(): Promise<Trainer> {
  const hook = process.env.EXP_TRAINER_MODULE;
  const url = hook ? (/^[a-z]+:/i.test(hook) ? hook : pathToFileURL(isAbsolute(hook) ? hook : resolve(hook)).href) : new URL('../train/index.js', import.meta.url).href;
  const mod = (await import(url)) as { train?: Trainer };
  if (typeof mod.train !== 'function') throw new Error(`${url} does not export train()`);
  return mod.train;
}

async function run(msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  try {
    const train = await loadTrainer();
    await train({
      config: msg.config,
      runDir: msg.runDir,
      backend: msg.backend,
      signal: controller.signal,
      ...(msg.resumeFrom ? { resumeFrom: msg.resumeFrom } : {}),
      onEvent: (event) => send({ type: 'event', event }),
    });
    await send({ type: 'result', ok: true });
  } catch (e) {
    await send({ type: 'result', ok: false, message: messageOf(e), userError: isUserError(e), aborted: controller.signal.aborted });
  }
  process.exit(0);
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'stop') controller.abort();
  else if (msg.type === 'run') void run(msg);
});
