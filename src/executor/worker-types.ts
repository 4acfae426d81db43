import type { ExperimentConfig } from '../config/schema.js';
import type { ExpandedSweep } from '../sweep/spec.js';
import type { ClaimPolicy } from '../store/writes.js';
import type { RunStore } from '../store/run-store.js';
import type { Trainer } from '../train/events.js';

/** What `exp worker` is given (src/executor/worker.ts), and what it reports. */
export interface WorkerOptions {
  sweep: ExpandedSweep;
  store: RunStore;
  trainer: Trainer;
  backend: string;
  policy: ClaimPolicy;
  /** SIGTERM / SIGINT: the running trial checkpoints and is marked interrupted; no new claim. */
  signal: AbortSignal;
  heartbeatMs: number;
  preflight?: (config: ExperimentConfig) => Promise<void>;
  log: (line: string) => void;
  /** Adaptive sweeps: how often to look at the store while other workers hold what this one waits for (default 2 s). */
  pollMs?: number;
}

export interface WorkerSummary {
  done: number;
  failed: number;
  /** The store's server stayed unreachable: what the worker said about its trial (it stopped there). */
  storeLost: string | null;
  /** The trial this worker was running when it was stopped, if any. */
  interrupted: string | null;
}
