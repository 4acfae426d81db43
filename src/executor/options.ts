// The sweep YAML's `executor:` key is part of the sweep's schema (src/sweep/), which the executors read.
export { SlurmJobOptions, ExecutorSpec } from '../sweep/executor-spec.js';

export const EXECUTORS = ['local', 'slurm'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];
