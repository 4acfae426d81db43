import type { Trainer, TrainEvent } from './events.js';

/**
 * Makes a trainer honour `pauseAt`: when the rung's epoch event (or its evaluation) has been
 * handed on, the trainer's signal is aborted; the loop sees it before the next micro-batch,
 * checkpoints the finished epoch and throws AbortError, which is swallowed here. It runs in the
 * same process as the loop, so not one step of the next epoch is trained.
 */
export function withPause(train: Trainer): Trainer {
  return async (opts) => {
    const at = opts.pauseAt;
    if (!at) return train(opts);
    const stop = new AbortController();
    const forward = () => stop.abort(opts.signal?.reason);
    if (opts.signal?.aborted) forward();
    else opts.signal?.addEventListener('abort', forward, { once: true });
    let paused = false;
    const reached = (e: TrainEvent): boolean =>
      at.after === 'epoch'
        ? e.kind === 'epoch' && e.epoch >= at.epoch
        : e.kind === 'eval' && !e.final && e.epoch >= at.epoch;
    try {
      await train({
        ...opts,
        signal: stop.signal,
        onEvent: async (e) => {
          await opts.onEvent(e);
          if (!stop.signal.aborted && reached(e)) {
            paused = true;
            stop.abort('pause');
          }
        },
      });
    } catch (e) {
      if (paused && !opts.signal?.aborted && e instanceof DOMException && e.name === 'AbortError') return;
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', forward);
    }
  };
}
