// The sweep YAML's `executor:` key is part of the sweep's schema (src/sweep/), which the executors read.
export { SlurmJobOptions, ExecutorSpec } from '../sweep/executor-spec.js';

export { EXECUTORS, type ExecutorName } from './names.js';
