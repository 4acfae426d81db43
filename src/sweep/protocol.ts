import type { ExperimentConfig } from '../config/schema.js';
import type { TrainEvent } from '../train/events.js';

/** Messages between the sweep orchestrator and a trial's worker process (plain JSON over IPC). */
export type ToWorker =
  | { type: 'run'; config: ExperimentConfig; runDir: string; backend: string; resumeFrom: string | null }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'event'; event: TrainEvent }
  | { type: 'result'; ok: true }
  | { type: 'result'; ok: false; message: string; userError: boolean; aborted: boolean };
