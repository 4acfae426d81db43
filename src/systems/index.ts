export type { AsdSystem, SystemArgs, SystemClass, SystemDefinition, ObjectiveResult } from './types.js';
export { buildSystem, systemDefinition, systemName, usedConfigKeys, underKeys, SHARED_CONFIG_KEYS, DEFAULT_SYSTEM } from './build.js';
export { PerTypeSystem, classesByType } from './per-type.js';
export { LogMelSystem } from './logmel-system.js';
export type { LogMelDetector } from './logmel-system.js';
export { ClassifierSystem, classifierSystem } from './classifier.js';
export { frameVectors, melWindows, windowCount, clipMean } from './frontends.js';
export { rowMse, negLogSoftmax } from './objectives.js';
