import { parentPort } from 'node:worker_threads';
import { messageOf } from '../util/errors.js';
import { warmClips } from './data.js';
import type { FromWarmWorker, ToWarmWorker } from './warm-protocol.js';

/** A worker thread of warmFeatureCache: computes (or checks) the log-Mels of the clips it is sent. */
const port = parentPort!;
const send = (m: FromWarmWorker) => port.postMessage(m);

port.on('message', (m: ToWarmWorker) => {
  try {
    send({ kind: 'done', clips: m.paths.length, computed: warmClips(m.config, m.cacheRoot, m.paths) });
  } catch (e) {
    send({ kind: 'failed', message: messageOf(e) });
  }
});
send({ kind: 'ready' });
