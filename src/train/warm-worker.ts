import { messageOf } from '../util/errors.js';
import { serveJobs } from '../util/worker-pool.js';
import { warmClips } from './data.js';
import type { FromWarmWorker, ToWarmWorker } from './warm-protocol.js';

/** A worker thread of warmFeatureCache: computes (or checks) the log-Mels of the clips it is sent. */
serveJobs((m: ToWarmWorker): FromWarmWorker => {
  try {
    return { kind: 'done', clips: m.paths.length, computed: warmClips(m.config, m.cacheRoot, m.paths) };
  } catch (e) {
    return { kind: 'failed', message: messageOf(e) };
  }
});
