import type { MetricTriple } from '../train/events.js';

/**
 * The sweep's live state: plain data the engine updates and the views (Ink dashboard, plain
 * progress lines) read. No React here, so the engine never depends on the view.
 */
export type TrialStatus = 'queued' | 'running' | 'done' | 'failed' | 'interrupted' | 'busy';

export interface TrialView {
  index: number;
  name: string;
  status: TrialStatus;
  paper: { auc: number; pauc: number } | null;
  runId: string | null;
  epoch: number;
  epochs: number;
  startEpoch: number;
  step: number;
  stepsPerEpoch: number;
  loss: number | null;
  clipsPerSec: number | null;
  /** Epoch ms when this process started the trial (null if not started here). */
  startedAt: number | null;
  finishedAt: number | null;
  /** Final average metrics (values in [0, 1]). */
  result: MetricTriple | null;
  error: string | null;
  resumed: boolean;
  /** The last finished epoch's numbers (from its epoch event). */
  lastEpoch: { epoch: number; loss: number; clipsPerSec: number } | null;
}

export interface SweepState {
  sweep: string;
  profile: string | null;
  concurrency: number;
  startedAt: number;
  trials: TrialView[];
  /** A short line about the sweep as a whole (stopping, finished...). */
  message: string | null;
  finished: boolean;
}

export interface QueueCounts {
  done: number;
  running: number;
  queued: number;
  failed: number;
  interrupted: number;
  busy: number;
}

export function queueCounts(s: SweepState): QueueCounts {
  const c: QueueCounts = { done: 0, running: 0, queued: 0, failed: 0, interrupted: 0, busy: 0 };
  for (const t of s.trials) c[t.status]++;
  return c;
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
    if (t.status === 'done' && t.startedAt !== null && t.finishedAt !== null && !t.resumed) lengths.push((t.finishedAt - t.startedAt) / 1000);
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

type Listener = () => void;

/**
 * A tiny observable holding the SweepState. Updates replace the state object (views compare by
 * reference); listeners are told at most every `intervalMs` so a burst of step events does not
 * redraw the terminal hundreds of times a second.
 */
export class SweepStateStore {
  private state: SweepState;
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private lastNotify = 0;

  constructor(initial: SweepState, private readonly intervalMs = 100) {
    this.state = initial;
  }

  get = (): SweepState => this.state;

  subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  update(fn: (s: SweepState) => SweepState, urgent = false): void {
    this.state = fn(this.state);
    this.dirty = true;
    const now = Date.now();
    if (urgent || now - this.lastNotify >= this.intervalMs) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.intervalMs - (now - this.lastNotify));
  }

  updateTrial(index: number, patch: Partial<TrialView>, urgent = false): void {
    this.update((s) => ({ ...s, trials: s.trials.map((t) => (t.index === index ? { ...t, ...patch } : t)) }), urgent);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    this.lastNotify = Date.now();
    for (const l of this.listeners) l();
  }
}

export function initialTrialView(index: number, name: string, paper: TrialView['paper']): TrialView {
  return {
    index, name, status: 'queued', paper, runId: null, epoch: 0, epochs: 0, startEpoch: 1, step: 0, stepsPerEpoch: 0,
    loss: null, clipsPerSec: null, startedAt: null, finishedAt: null, result: null, error: null, resumed: false, lastEpoch: null,
  };
}
