import type { SystemDefinition } from '../types.js';
import { BUILTIN_CONFIG_KEYS } from '../config-keys.js';
import { MobileNetV2Config, mobilenetv2Section } from './config.js';
import { LogMelSystem } from '../logmel-system.js';
import { clipGeometry } from '../../model/clip.js';
import { windowCount } from '../frontends.js';
import { UserError } from '../../util/errors.js';
import { MobileNetV2Detector } from './detector.js';

/** `system: mobilenetv2`: one MobileNetV2 machine-ID classifier per machine type. */
export const mobileNetV2System: SystemDefinition = {
  schema: MobileNetV2Config,
  perType: () => true,
  paperRow: () => 'mobilenetv2',
  configKeys: BUILTIN_CONFIG_KEYS.mobilenetv2,
  check: (config) => {
    const { frames } = clipGeometry(config);
    const { window } = mobilenetv2Section(config);
    if (windowCount(frames, window, mobilenetv2Section(config).hop) < 1) {
      throw new UserError(
        `mobilenetv2.window: ${window} frames, but data.seconds ${config.data.seconds} gives ${frames} frames per clip`,
      );
    }
  },
  build: ({ config, classes, prefix }) =>
    new LogMelSystem(
      new MobileNetV2Detector(mobilenetv2Section(config), classes.length, `${prefix}mobilenetv2`, config.seed),
      clipGeometry(config),
    ),
};
