import type { PartsApi } from '../registry/catalog.js';
import { classifierSystem } from './classifier.js';
import { aeSystem } from './ae/index.js';
import { idnnSystem } from './idnn/index.js';
import { mobileNetV2System } from './mobilenetv2/index.js';
import { glowAffSystem } from './glow/index.js';
import { AeConfig } from './ae/config.js';
import { IdnnConfig } from './idnn/config.js';
import { MobileNetV2Config } from './mobilenetv2/config.js';
import { GlowConfig } from './glow/config.js';

/**
 * The systems of Table 2 (`system:`), registered through the API plug-ins use. Each baseline
 * declares its own top-level section beside its factory (ae, idnn, mobilenetv2, glow).
 */
export function systemParts(exp: PartsApi): void {
  exp.registerSystem('classifier', classifierSystem);
  exp.registerSystem('ae', aeSystem);
  exp.registerSystem('idnn', idnnSystem);
  exp.registerSystem('mobilenetv2', mobileNetV2System);
  exp.registerSystem('glow-aff', glowAffSystem);
}

/** Which section belongs to which baseline (kept for scripts that read it; the systems declare them). */
export const SYSTEM_SECTIONS = {
  ae: AeConfig,
  idnn: IdnnConfig,
  mobilenetv2: MobileNetV2Config,
  glow: GlowConfig,
} as const;
