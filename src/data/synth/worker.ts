import { workerData } from 'node:worker_threads';
import { isUserError, messageOf } from '../../util/errors.js';
import { serveJobs } from '../../util/worker-pool.js';
import { planClips, writeClip, type SynthOptions } from './generate.js';
import type { FromSynthWorker, ToSynthWorker } from './worker-protocol.js';

/** A worker thread of synthesizeParallel: writes the clips of the set it is told to, in chunks. */
const opts = workerData as SynthOptions;
const plan = planClips(opts);

serveJobs((m: ToSynthWorker): FromSynthWorker => {
  try {
    const entries = plan.slice(m.start, m.end).map((job) => writeClip(opts, job));
    return { kind: 'wrote', start: m.start, entries };
  } catch (e) {
    const hint = isUserError(e) ? e.hint : undefined;
    return { kind: 'failed', message: messageOf(e), user: isUserError(e), ...(hint ? { hint } : {}) };
  }
});
