import { loadTrainer } from './trainer.js';
import { withPause } from '../train/pause.js';
import { isUserError, messageOf } from '../util/errors.js';
import type { FromWorker, ToWorker } from './protocol.js';

/**
 * A trainer in its own process (forked by ChildTrainer for a local sweep trial): runs the trainer
 * and sends every TrainEvent to the parent, whose run session is the only writer to the store.
 */

// Every way out before the result says why in worker.log (the parent quotes its tail): a trial
// once ended mid-epoch as 'exited with code 0' and an empty log, under heavy load.
let resultSent = false;
function leave(why: string): never {
  if (!resultSent) process.stderr.write(`trainer child: leaving before its result: ${why}\n`);
  process.exit(0);
}
// Never outlive the parent: if it dies (even kill -9) the IPC channel closes and we leave.
process.on('disconnect', () => leave('the IPC channel to the parent closed'));
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) leave(`the parent (pid ${parentPid}) is gone`);
}, 1000).unref();
// Emitted only when nothing is left to wait for: a run that awaits something no handle keeps alive.
process.on('beforeExit', () => {
  if (!resultSent) process.stderr.write('trainer child: event loop empty before the result\n');
});

const controller = new AbortController();
// Ctrl-C reaches the whole process group; the parent decides, and tells us with 'stop'.
process.on('SIGINT', () => {});
// SIGTERM sent to this process alone (a batch system, an operator) stops the trial as 'stop' would.
process.on('SIGTERM', () => controller.abort('SIGTERM'));

function send(msg: FromWorker): Promise<void> {
  return new Promise((done) => {
    if (!process.connected) return done();
    process.send!(msg, undefined, undefined, () => done());
  });
}

async function run(msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  try {
    const train = withPause(await loadTrainer());
    await train({
      config: msg.config,
      runDir: msg.runDir,
      backend: msg.backend,
      signal: controller.signal,
      ...(msg.resumeFrom ? { resumeFrom: msg.resumeFrom } : {}),
      ...(msg.pauseAt ? { pauseAt: msg.pauseAt } : {}),
      onEvent: (event) => send({ type: 'event', event }),
    });
    await send({ type: 'result', ok: true });
    resultSent = true;
  } catch (e) {
    const stopped = controller.signal.aborted;
    const reason: unknown = controller.signal.reason;
    await send({
      type: 'result',
      ok: false,
      message: stopped && typeof reason === 'string' ? reason : messageOf(e),
      userError: isUserError(e),
      aborted: stopped,
    });
    resultSent = true;
  }
  process.exit(0);
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'stop') controller.abort(msg.reason ?? 'stop');
  else if (msg.type === 'run') void run(msg);
});
