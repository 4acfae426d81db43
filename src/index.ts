// Public library surface of exp-asd (interface.md, "Library exports").
export * from './config/index.js';
export { UserError } from './util/errors.js';
export { logMel, logMelBatch, DEFAULT_LOGMEL_OPTIONS } from './features/logmel.js';
export type { LogMelOptions, LogMelResult, LogMelBatchResult } from './features/logmel.js';
