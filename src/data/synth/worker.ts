import { parentPort, workerData } from 'node:worker_threads';
import { isUserError, messageOf } from '../../util/errors.js';
import { planClips, writeClip, type SynthOptions } from './generate.js';
import type { FromSynthWorker, ToSynthWorker } from './worker-protocol.js';

/** A worker thread of synthesizeParallel: writes the clips of the set it is told to, in chunks. */
const opts = workerData as SynthOptions;
const plan = planClips(opts);
const port = parentPort!;
const send = (m: FromSynthWorker) => port.postMessage(m);

port.on('message', (m: ToSynthWorker) => {
  try {
    const entries = plan.slice(m.start, m.end).map((job) => writeClip(opts, job));
    send({ kind: 'wrote', start: m.start, entries });
  } catch (e) {
    const hint = isUserError(e) ? e.hint : undefined;
    send({ kind: 'failed', message: messageOf(e), user: isUserError(e), ...(hint ? { hint } : {}) });
  }
});
send({ kind: 'ready' });
