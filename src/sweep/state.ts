import type { MetricTriple } from '../events/index.js';

/**
 * The sweep's live state: plain data the engine publishes and the views (Ink dashboard, plain
 * progress lines, reports) only read. The engine never imports a view.
 */
/** 'stale': a trial followed from the store whose row says running but whose lease has run out (see shownStatus). */
export type TrialStatus = 'queued' | 'running' | 'done' | 'failed' | 'interrupted' | 'busy' | 'stale' | AdaptiveStatus;
/** Adaptive sweeps: stopped at a rung until more results come in, allowed on to the next rung, or stopped for good. */
export type AdaptiveStatus = 'paused' | 'promoted' | 'pruned';

/** An adaptive sweep's rung picture (src/sweep/search/). */
export interface RungSummary {
  method: string;
  metric: string;
  mode: 'min' | 'max';
  /** Trials per configuration: with more than one, a configuration is judged on its mean over seeds. */
  seeds: number;
  testSelection: boolean;
  rungs: Array<{ epoch: number; reached: number }>;
  running: number;
  paused: number;
  promoted: number;
  pruned: number;
  finished: number;
  failed: number;
  /** Epochs trained (all trials) and what the same configurations would cost as a full grid. */
  spent: number;
  full: number;
}

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
  /** The last finished epoch's loss terms, as the trial's system names them (cls / metric, mse, nll / id, ...). */
  terms: Record<string, number> | null;
  /** A followed trial's last stored heartbeat (epoch ms), to say how long a stale one has been silent. */
  heartbeatAt?: number | null;
}

export interface SweepState {
  sweep: string;
  profile: string | null;
  concurrency: number;
  /** How many trials run at once, with how many threads, and why (`2 trials at a time, 1 thread each (auto: 2 cores)`). */
  parallelism?: string;
  startedAt: number;
  trials: TrialView[];
  /** A short line about the sweep as a whole (stopping, finished...). */
  message: string | null;
  finished: boolean;
  /** The store the sweep writes to (for the `exp report` hint on finished trials). */
  dbFile?: string;
  /** Adaptive sweeps only. */
  rungs?: RungSummary;
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

  constructor(
    initial: SweepState,
    private readonly intervalMs = 100,
  ) {
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
    index,
    name,
    status: 'queued',
    paper,
    runId: null,
    epoch: 0,
    epochs: 0,
    startEpoch: 1,
    step: 0,
    stepsPerEpoch: 0,
    loss: null,
    clipsPerSec: null,
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
    resumed: false,
    lastEpoch: null,
    terms: null,
  };
}
