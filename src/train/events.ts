import type { ContainerModule } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import type { TrainEvent } from '../events/index.js';

// The events themselves live in src/events/ (the store records them and must not import train).
export type {
  TrainEvent,
  StartEvent,
  StepEvent,
  EpochEvent,
  CheckpointEvent,
  ScoreRow,
  MetricTriple,
  EvalEvent,
  DoneEvent,
} from '../events/index.js';

/** A training run: config in, events out. Throws UserError for bad input, Error('...') for NaN loss etc. */
export interface TrainOptions {
  config: ExperimentConfig;
  /** Run directory for checkpoints (runs/<run-id>/). */
  runDir: string;
  backend: string;
  onEvent: (e: TrainEvent) => void | Promise<void>;
  signal?: AbortSignal;
  /** Resume from this checkpoint directory (written by an earlier CheckpointEvent). */
  resumeFrom?: string;
  /** Plug-ins added to the run's container (src/registry/plugins.ts). */
  extraModules?: readonly ContainerModule[];
  /**
   * Stop at a rung of an adaptive sweep (src/sweep/search/): after this epoch's event (or its
   * test evaluation, for a test-set metric) training stops with a checkpoint, before any step of
   * the next epoch, and the trainer returns normally. See withPause in src/train/pause.ts.
   */
  pauseAt?: PausePoint;
}

export interface PausePoint {
  epoch: number;
  after: 'epoch' | 'eval';
}

export type Trainer = (opts: TrainOptions) => Promise<void>;
