import type { SweepState, TrialView } from '../sweep/state.js';

/** Numbers the views derive from the sweep state the engine publishes (src/sweep/state.ts). */

export interface QueueCounts {
  done: number;
  running: number;
  queued: number;
  failed: number;
  interrupted: number;
  busy: number;
  stale: number;
  paused: number;
  promoted: number;
  pruned: number;
}

export function queueCounts(s: SweepState): QueueCounts {
  const c: QueueCounts = {
    done: 0,
    running: 0,
    queued: 0,
    failed: 0,
    interrupted: 0,
    busy: 0,
    stale: 0,
    paused: 0,
    promoted: 0,
    pruned: 0,
  };
  for (const t of s.trials) c[t.status]++;
  return c;
}

/**
 * An adaptive sweep's rung line: the rungs with how many configurations reached each, the counts,
 * and the epochs spent against the full grid's.
 */
export function rungLine(s: SweepState): string | null {
  const r = s.rungs;
  if (!r) return null;
  const rungs = r.rungs.map((x) => `${x.epoch}:${x.reached}`).join(' ');
  const judged = r.seeds > 1 ? `, judged on the mean over ${r.seeds} seeds` : '';
  const test = r.testSelection ? ' [selects on a TEST metric]' : '';
  const pct = r.full > 0 ? ` (${((100 * r.spent) / r.full).toFixed(0)} %)` : '';
  return `${r.method} on ${r.metric} (${r.mode})${judged}${test}; rungs epoch:configs ${rungs}; running ${r.running}, paused ${r.paused}, promoted ${r.promoted}, pruned ${r.pruned}, finished ${r.finished}${r.failed ? `, failed ${r.failed}` : ''}; epochs ${r.spent} of ${r.full} as a full grid${pct}`;
}

/** Fraction of the trial's steps done in this process, and its remaining seconds (null if unknown). */
export function trialProgress(t: TrialView, now: number): { fraction: number; etaSec: number | null } {
  const total = Math.max(1, (t.epochs - t.startEpoch + 1) * Math.max(1, t.stepsPerEpoch));
  const done = Math.max(0, (t.epoch - t.startEpoch) * t.stepsPerEpoch + t.step);
  const fraction = t.status === 'done' ? 1 : Math.min(1, done / total);
  if (t.startedAt === null || done === 0) return { fraction, etaSec: null };
  const elapsed = (now - t.startedAt) / 1000;
  return { fraction, etaSec: (elapsed / done) * (total - done) };
}

/**
 * The sweep's remaining time: running trials' own ETAs, plus each queued trial at the mean length
 * of the trials this process saw finish (or the projected length of the running ones), spread over
 * the concurrency. Null until there is anything to extrapolate from.
 */
export function sweepEta(s: SweepState, now: number): number | null {
  const lengths: number[] = [];
  const remaining: number[] = [];
  for (const t of s.trials) {
    if (t.status === 'done' && t.startedAt !== null && t.finishedAt !== null && !t.resumed)
      lengths.push((t.finishedAt - t.startedAt) / 1000);
    if (t.status === 'running') {
      const { fraction, etaSec } = trialProgress(t, now);
      if (etaSec === null) return null;
      remaining.push(etaSec);
      if (fraction > 0 && t.startedAt !== null && !t.resumed) lengths.push((now - t.startedAt) / 1000 / fraction);
    }
  }
  const queued = s.trials.filter((t) => t.status === 'queued').length;
  if (queued > 0 && lengths.length === 0) return null;
  const mean = lengths.length ? lengths.reduce((a, b) => a + b, 0) / lengths.length : 0;
  const work = remaining.reduce((a, b) => a + b, 0) + queued * mean;
  return Math.max(...remaining, work / Math.max(1, s.concurrency), 0);
}
