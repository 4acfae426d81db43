import type { ExperimentConfig } from '../config/schema.js';
import type { TrainEvent } from '../events/index.js';
import type { PausePoint } from '../train/events.js';

/** Messages between a run session and its trainer child process (plain JSON over IPC). */
export type ToWorker =
  | {
      type: 'run';
      config: ExperimentConfig;
      runDir: string;
      backend: string;
      resumeFrom: string | null;
      pauseAt?: PausePoint;
    }
  | { type: 'stop'; reason?: string };

export type FromWorker =
  | { type: 'event'; event: TrainEvent }
  | { type: 'result'; ok: true }
  | { type: 'result'; ok: false; message: string; userError: boolean; aborted: boolean };
