export type { AsdSystem, SystemArgs, SystemClass, SystemDefinition, ObjectiveResult } from './types.js';
export {
  buildSystem,
  checkSystem,
  systemDefinition,
  systemName,
  usedConfigKeys,
  underKeys,
  SHARED_CONFIG_KEYS,
  DEFAULT_SYSTEM,
} from './build.js';
export { PerTypeSystem, classesByType } from './per-type.js';
export { LogMelSystem } from './logmel-system.js';
export type { LogMelDetector } from './logmel-system.js';
export { ClassifierSystem, classifierSystem } from './classifier.js';
export { frameVectors, melWindows, windowCount, clipMean } from './frontends.js';
export { rowMse, negLogSoftmax } from './objectives.js';
export { systemParts, SYSTEM_SECTIONS } from './parts.js';
export { AeConfig, aeSection } from './ae/config.js';
export { IdnnConfig, idnnSection } from './idnn/config.js';
export { MobileNetV2Config, mobilenetv2Section } from './mobilenetv2/config.js';
export { GlowConfig, glowSection } from './glow/config.js';
